"""Reading a month's usage spans for rating: summed in the database where that is exact.

A month holds hundreds of thousands of spans, and most of them are priced alike from
start to end: wholly inside the month, and straddling no instant at which a rate or an
outage begins or ends (a *cut*). Such spans of one stream (owner, resource and meter)
and shape that also fall between the same two cuts are summed by the database into one
:class:`Span` standing for all of them (``span_ids``): over that stretch the same rates
and outages apply to every one of them, so rating the sum gives exactly the sum of
rating each (``rating.rate_span`` multiplies a span's quantity by a factor and by the
share of its time that is priced, and that share is all or nothing between two cuts).
Quantities are summed exactly: as integer micro-units on SQLite (which keeps them as
floating point; six decimals of values below ~10^9 survive that exactly), as
``numeric`` on PostgreSQL. Every other span (crossing the month's bounds or a cut, or
of zero length) is read as it is.

Spans are grouped and read by their stream's and shape's ids alone; each stream's
columns and each shape's attributes are then read once, however many spans share them.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    String,
    Table,
    and_,
    case,
    func,
    literal,
    not_,
    or_,
    select,
    type_coerce,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from ocx.domain.allocations.models import Allocation
from ocx.domain.billing.models import Outage
from ocx.domain.billing.rating import Span
from ocx.domain.identity.models import Project
from ocx.domain.marketplace.models import Offering, Rate
from ocx.domain.marketplace.service import find_plan
from ocx.domain.metering.bulk import MemoRead
from ocx.domain.metering.models import UsageSpan, UsageStream
from ocx.domain.metering.streams import Shapes

MICRO_UNITS = 1_000_000  # quantities have six decimals (Numeric(24, 6))
CHUNK = 500  # ids per IN (...) query
SPANS = cast(Table, UsageSpan.__table__)
STREAMS = cast(Table, UsageStream.__table__)
# What rating reads of a stream, after its id.
STREAM_COLUMNS = [STREAMS.c[name] for name in (
    "id", "project_id", "allocation_id", "provider_id", "offering_id", "user_id",
    "resource_kind", "resource_id", "meter", "unit")]
# What rating reads of a single span.
SINGLE_COLUMNS = [SPANS.c[name] for name in (
    "id", "stream_id", "shape_id", "quantity", "started_at", "ended_at")]


@dataclass(frozen=True, slots=True)
class _Stream:
    """What a stream's spans have in common, as rating's spans hold it."""

    org_id: uuid.UUID
    project_id: str
    resource_kind: str
    resource_id: str
    meter: str
    unit: str
    offering_id: str | None
    provider_id: str | None
    user_id: str | None
    plan_id: str | None

    def span(self, span_id: int, quantity: Decimal, started_at: datetime,
             ended_at: datetime, attributes: dict[str, Any],
             span_ids: tuple[int, ...] = ()) -> Span:
        """One of the stream's spans (or one standing for ``span_ids``)."""
        # By position, in Span's field order: twice as fast as by keyword, and there
        # is one per span or group of a month.
        return Span(span_id, self.project_id, self.resource_kind, self.resource_id,
                    self.meter, quantity, self.unit, started_at, ended_at,
                    self.offering_id, self.provider_id, self.user_id, attributes,
                    self.plan_id, span_ids)


def cuts(session: Session, start: datetime, end: datetime) -> list[datetime]:
    """Every instant inside (start, end) at which some rate or outage begins or ends."""
    found: set[datetime] = set()
    for column in (Rate.valid_from, Rate.valid_until, Outage.starts_at, Outage.ends_at):
        found.update(session.scalars(select(column).where(column > start, column < end)))
    return sorted(found)


def load_spans(session: Session, org_ids: set[uuid.UUID] | None, start: datetime,
               end: datetime) -> dict[uuid.UUID, list[Span]]:
    """Spans overlapping [start, end) of the organizations' projects, by organization:
    each priced-alike group summed into one span, the others as they are."""
    between = cuts(session, start, end)
    alike = and_(SPANS.c.started_at >= start, SPANS.c.ended_at <= end,
                 SPANS.c.ended_at > SPANS.c.started_at,
                 *[or_(SPANS.c.ended_at <= cut, SPANS.c.started_at >= cut)
                   for cut in between])
    micro = session.get_bind().dialect.name == "sqlite"
    summed = MemoRead(session, _summed_columns(micro))
    stretch: ColumnElement[Any] = case(
        *[(SPANS.c.started_at < cut, i) for i, cut in enumerate(between)],
        else_=len(between)) if between else literal(0)
    groups = summed.read(session, _of_orgs(
        select(*summed.selected).where(alike)
        .group_by(SPANS.c.stream_id, SPANS.c.shape_id, stretch), org_ids))
    single = MemoRead(session, SINGLE_COLUMNS)
    singles = single.read(session, _of_orgs(
        select(*single.selected)
        .where(SPANS.c.started_at < end, SPANS.c.ended_at > start, not_(alike)), org_ids))
    streams = _streams(session, {row[0] for row in groups} | {row[1] for row in singles})
    shapes = Shapes(session).attributes({row[1] for row in groups}
                                        | {row[2] for row in singles})
    found: dict[uuid.UUID, list[Span]] = defaultdict(list)
    for stream_id, shape_id, started_at, ended_at, quantity, ids in groups:
        stream = streams[stream_id]
        span_ids = tuple(map(int, ids.split(",")))
        found[stream.org_id].append(stream.span(
            span_ids[0], Decimal(quantity).scaleb(-6) if micro else Decimal(quantity),
            started_at, ended_at, shapes[shape_id], span_ids))
    for span_id, stream_id, shape_id, quantity, started_at, ended_at in singles:
        stream = streams[stream_id]
        found[stream.org_id].append(stream.span(
            span_id, quantity, started_at, ended_at, shapes[shape_id]))
    return found


def _of_orgs(stmt: Select[Any], org_ids: set[uuid.UUID] | None) -> Select[Any]:
    if org_ids is None:
        return stmt
    return stmt.where(SPANS.c.stream_id.in_(select(STREAMS.c.id).where(
        STREAMS.c.project_id.in_(
            select(Project.id).where(Project.organization_id.in_(org_ids))))))


def _summed_columns(micro: bool) -> list[ColumnElement[Any]]:
    """Per stream, shape and stretch between cuts: first start, last end, the exact sum
    of the quantities (micro-units on SQLite) and the span ids."""
    quantity = func.sum(sql_cast(func.round(SPANS.c.quantity * MICRO_UNITS), BigInteger)) \
        if micro else func.sum(SPANS.c.quantity)
    return [SPANS.c.stream_id, SPANS.c.shape_id,
            func.min(SPANS.c.started_at).label("started_at"),
            func.max(SPANS.c.ended_at).label("ended_at"),
            type_coerce(quantity, NullType()).label("quantity"),
            func.aggregate_strings(sql_cast(SPANS.c.id, String), ",").label("ids")]


def _streams(session: Session, stream_ids: set[int]) -> dict[int, _Stream]:
    """The streams by id, each with its organization and the plan pricing it."""
    read = MemoRead(session, STREAM_COLUMNS)
    rows: list[tuple[Any, ...]] = []
    ordered = sorted(stream_ids)
    for start in range(0, len(ordered), CHUNK):
        rows.extend(read.read(session, select(*read.selected).where(
            STREAMS.c.id.in_(ordered[start:start + CHUNK]))))
    org_of = _orgs_of(session, {row[1] for row in rows})
    plan_of = _plans_of(session, {row[2] for row in rows if row[2] is not None},
                        {row[4] for row in rows if row[4] is not None})
    text = _texts()
    return {stream_id: _Stream(
        org_id=org_of[project_id], project_id=str(text(project_id)), resource_kind=kind,
        resource_id=resource_id, meter=meter, unit=unit, offering_id=text(offering_id),
        provider_id=text(provider_id), user_id=text(user_id),
        plan_id=plan_of(allocation_id, offering_id))
        for (stream_id, project_id, allocation_id, provider_id, offering_id, user_id, kind,
             resource_id, meter, unit) in rows}


def _orgs_of(session: Session, project_ids: Iterable[uuid.UUID]
             ) -> dict[uuid.UUID, uuid.UUID]:
    """Each project's sponsoring organization."""
    found: dict[uuid.UUID, uuid.UUID] = {}
    ordered = sorted(set(project_ids))
    for start in range(0, len(ordered), CHUNK):
        found.update((project_id, org_id) for project_id, org_id in session.execute(
            select(Project.id, Project.organization_id).where(
                Project.id.in_(ordered[start:start + CHUNK]))))
    return found


def _texts() -> Callable[[uuid.UUID | None], str | None]:
    """``str(value)``, once per distinct object (a read gives one object per distinct
    id, and the rows keep every object alive while the memo is used)."""
    memo: dict[int, str] = {}

    def text(value: uuid.UUID | None) -> str | None:
        if value is None:
            return None
        found = memo.get(id(value))
        if found is None:
            found = memo[id(value)] = str(value)
        return found

    return text


def _plans_of(session: Session, allocation_ids: set[uuid.UUID], offering_ids: set[uuid.UUID]
              ) -> Callable[[uuid.UUID | None, uuid.UUID | None], str | None]:
    """Which plan prices a span of (allocation, offering): the allocation's, else the
    offering's only plan."""
    chosen = dict(session.execute(select(Allocation.id, Allocation.plan_id).where(
        Allocation.id.in_(allocation_ids))).all()) if allocation_ids else {}
    default = {o.id: find_plan(session, o, None)
               for o in session.scalars(select(Offering).where(Offering.id.in_(offering_ids)))}
    memo: dict[tuple[uuid.UUID | None, uuid.UUID | None], str | None] = {}

    def plan_of(allocation_id: uuid.UUID | None, offering_id: uuid.UUID | None) -> str | None:
        key = (allocation_id, offering_id)
        if key not in memo:
            plan = default.get(offering_id) if offering_id else None
            plan_id = (chosen.get(allocation_id) if allocation_id else None) or (
                plan.id if plan else None)
            memo[key] = str(plan_id) if plan_id is not None else None
        return memo[key]

    return plan_of
