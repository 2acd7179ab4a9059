"""Dashboard area: a project's usage over time, per meter and per day (plots and a table).

The page reads ``metering.daily.daily_usage`` (which checks the person may read the
project's usage) and hands the plots their numbers in a JSON data island that
``static/usage-charts.js`` draws with the vendored uPlot: no inline script, as the CSP
wants.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from ocx.domain.metering import daily
from ocx.domain.metering.schemas import DailyUsage
from ocx.errors import InvalidInput
from ocx.persistence.base import utcnow
from ocx.web.dashboard.common import SignedInDep

router = APIRouter(include_in_schema=False)
TEMPLATE = "usage/show.html"
DEFAULT_MONTHS = 3  # this month and the two before it
# What people call each meter; a meter missing here shows its own name.
METER_LABELS = {"compute.server": "Servers", "volume.storage": "Volume storage",
                "network.floating_ip": "Floating IPs", "object.storage": "Object storage",
                "object.requests": "Object storage requests",
                "object.transfer_out": "Object storage transfer out"}
ProjectRef = Annotated[str, Path(min_length=1, max_length=130)]
DayQuery = Annotated[str | None, Query(max_length=40)]


@dataclass(frozen=True)
class Period:
    """Whole UTC days from ``first`` to ``last``, both included."""

    first: date
    last: date


def months_back(today: date, months: int) -> date:
    """The first day of the month ``months - 1`` months before ``today``'s."""
    index = today.year * 12 + today.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1)


def _day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{name}: {text!r} is not a day (YYYY-MM-DD)") from None


def parse_period(first: str | None, last: str | None, today: date) -> Period:
    """The asked period; by default this month and the previous ones, up to today.

    Raises:
        InvalidInput: a day is not YYYY-MM-DD.
    """
    return Period(first=_day(first, "from") if first else months_back(today, DEFAULT_MONTHS),
                  last=_day(last, "to") if last else today)


def presets(today: date) -> list[tuple[str, Period]]:
    """Quick choices of period, as (label, period)."""
    return [("This month", Period(months_back(today, 1), today)),
            ("Last 3 months", Period(months_back(today, 3), today)),
            ("Last 12 months", Period(months_back(today, 12), today)),
            ("Last 30 days", Period(today - timedelta(days=29), today))]


def label(meter: str) -> str:
    """The name people know a meter by."""
    return METER_LABELS.get(meter, meter)


def chart_data(usage: DailyUsage) -> dict[str, Any]:
    """What the plots draw: the days and each meter's daily quantities (floats are fine
    for drawing; the table shows the exact numbers)."""
    return {"days": [day.isoformat() for day in usage.days],
            "series": [{"meter": s.meter, "label": label(s.meter), "unit": s.unit,
                        "values": [float(q) for q in s.quantities]} for s in usage.series]}


def _form(project_id: str, today: date, first: str | None, last: str | None) -> dict[str, Any]:
    return {"project_id": project_id, "presets": presets(today),
            "first": first or "", "last": last or "", "label": label}


@router.get("/projects/{project_id}/usage")
def usage_page(page: SignedInDep, project_id: ProjectRef,
               first: Annotated[DayQuery, Query(alias="from")] = None,
               last: Annotated[DayQuery, Query(alias="to")] = None) -> Response:
    """A project's usage per resource type and day, as plots and a table."""
    today = utcnow().date()
    form = _form(project_id, today, first, last)
    try:
        period = parse_period(first, last, today)
        usage = daily.daily_usage(page.db, page.actor, project_id, period.first, period.last)
    except InvalidInput as exc:
        return page.failed(exc, TEMPLATE, usage=None, **form)
    form.update(first=period.first.isoformat(), last=period.last.isoformat())
    return page.render(TEMPLATE, usage=usage, chart=chart_data(usage), **form)

