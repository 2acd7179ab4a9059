"""A project's usage per meter and per day: the series behind the dashboard's plots.

Each span of ``service.project_usage`` (cut to the period, running resources up to now)
is shared among the UTC days it overlaps in proportion to its time on each, as ``cut``
shares a span between periods; a span of no length counts on the day it starts.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from ocx.domain.actor import Actor
from ocx.domain.metering import service
from ocx.domain.metering.meters import MICROSECOND, QUANTUM
from ocx.domain.metering.schemas import DailyUsage, MeterSeries, UsageSpanPublic
from ocx.errors import InvalidInput

MAX_DAYS = 366
ONE_DAY = timedelta(days=1)


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of ``day``."""
    return datetime.combine(day, time(), tzinfo=UTC)


def daily_usage(session: Session, actor: Actor, project_ref: str, first: date,
                last: date) -> DailyUsage:
    """The project's usage per meter on each UTC day from ``first`` to ``last`` (both
    included), for whoever may read its usage.

    Raises:
        InvalidInput: ``last`` is before ``first``, or the period is over MAX_DAYS days.
        NotFound: no such project, or one the actor may not see.
    """
    if last < first:
        raise InvalidInput(f"the period must end on or after its first day ({first})")
    count = (last - first).days + 1
    if count > MAX_DAYS:
        raise InvalidInput(f"a period has at most {MAX_DAYS} days; this one has {count}")
    report = service.project_usage(session, actor, project_ref, day_start(first),
                                   day_start(last) + ONE_DAY)
    days = [first + timedelta(days=i) for i in range(count)]
    return DailyUsage(project_id=report.project_id, project=report.project, days=days,
                      series=series_of(report.spans, first, count))


def series_of(spans: list[UsageSpanPublic], first: date, count: int) -> list[MeterSeries]:
    """Per meter (sorted), the spans' quantities shared among ``count`` days from ``first``."""
    sums: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0)] * count)
    for span in spans:
        per_day = sums[(span.meter, span.unit)]
        for index, share in day_shares(span.started_at, span.ended_at, first, count):
            per_day[index] += span.quantity * share
    return [MeterSeries(meter=meter, unit=unit,
                        quantities=[q.quantize(QUANTUM) for q in per_day],
                        total=sum(per_day, Decimal(0)).quantize(QUANTUM))
            for (meter, unit), per_day in sorted(sums.items())]


def day_shares(start: datetime, end: datetime, first: date, count: int
               ) -> list[tuple[int, Decimal]]:
    """(day index, share of [start, end) on that day) for the days it overlaps among
    ``count`` days from ``first``; an instant is wholly on its day."""
    origin = day_start(first)
    index = max(0, (start - origin) // ONE_DAY)
    whole = (end - start) // MICROSECOND
    if whole == 0:
        return [(index, Decimal(1))] if index < count else []
    shares = []
    while index < count and origin + index * ONE_DAY < end:
        day_from = origin + index * ONE_DAY
        kept = (min(end, day_from + ONE_DAY) - max(start, day_from)) // MICROSECOND
        if kept > 0:
            shares.append((index, Decimal(kept) / Decimal(whole)))
        index += 1
    return shares
