"""Reading a month's usage spans for rating: summed in the database where that is exact.

A month holds hundreds of thousands of spans, and most of them are priced alike from
start to end: wholly inside the month, and straddling no instant at which a rate or an
outage begins or ends (a *cut*). Such spans of one resource, shape and owner that also
fall between the same two cuts are summed by the database into one :class:`Span`
standing for all of them (``span_ids``): over that stretch the same rates and outages
apply to every one of them, so rating the sum gives exactly the sum of rating each
(``rating.rate_span`` multiplies a span's quantity by a factor and by the share of its
time that is priced, and that share is all or nothing between two cuts). Quantities are
summed exactly: as integer micro-units on SQLite (which keeps them as floating point;
six decimals of values below ~10^9 survive that exactly), as ``numeric`` on PostgreSQL.
Every other span (crossing the month's bounds or a cut, or of zero length) is read as
it is.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    String,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    not_,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from ocx.domain.allocations.models import Allocation
from ocx.domain.billing.models import Outage
from ocx.domain.billing.rating import Span
from ocx.domain.identity.models import Project
from ocx.domain.marketplace.models import Offering, Rate
from ocx.domain.marketplace.service import find_plan
from ocx.domain.metering.bulk import MemoRead
from ocx.domain.metering.models import UsageSpan

MICRO_UNITS = 1_000_000  # quantities have six decimals (Numeric(24, 6))
# What one summed span belongs to: the resource first, the column that tells groups
# apart soonest (the database compares group keys column by column).
OWNER = [column.expression for column in (
    UsageSpan.resource_id, UsageSpan.resource_kind, UsageSpan.meter, UsageSpan.project_id,
    UsageSpan.allocation_id, UsageSpan.user_id, UsageSpan.offering_id, UsageSpan.provider_id,
    UsageSpan.unit)]
SPAN_COLUMNS = [column.expression for column in (  # what rating reads of a single span
    UsageSpan.id, UsageSpan.project_id, UsageSpan.resource_kind, UsageSpan.resource_id,
    UsageSpan.meter, UsageSpan.quantity, UsageSpan.unit, UsageSpan.started_at,
    UsageSpan.ended_at, UsageSpan.offering_id, UsageSpan.provider_id, UsageSpan.user_id,
    UsageSpan.attributes, UsageSpan.allocation_id)]
SHAPE = cast(UsageSpan.attributes, Text)  # a shape, compared as its JSON text


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
    alike = and_(UsageSpan.started_at >= start, UsageSpan.ended_at <= end,
                 UsageSpan.ended_at > UsageSpan.started_at,
                 *[or_(UsageSpan.ended_at <= cut, UsageSpan.started_at >= cut)
                   for cut in between])
    micro = session.get_bind().dialect.name == "sqlite"
    summed = MemoRead(session, _summed_columns(micro))
    stretch: ColumnElement[Any] = case(
        *[(UsageSpan.started_at < cut, i) for i, cut in enumerate(between)],
        else_=len(between)) if between else literal(0)
    groups = summed.read(session, _of_orgs(
        select(*summed.selected).where(alike)
        .group_by(OWNER[0], SHAPE, *OWNER[1:], stretch), org_ids))
    single = MemoRead(session, SPAN_COLUMNS)
    singles = single.read(session, _of_orgs(
        select(*single.selected)
        .where(UsageSpan.started_at < end, UsageSpan.ended_at > start, not_(alike)),
        org_ids))
    plan_of = _plans_of(session, {row[4] for row in groups} | {row[13] for row in singles},
                        {row[6] for row in groups} | {row[9] for row in singles})
    org_of = _orgs_of(session, {row[3] for row in groups} | {row[1] for row in singles})
    text, shape, span_id = _texts(), _shapes(), _id_of(micro)
    found: dict[uuid.UUID, list[Span]] = defaultdict(list)
    for (resource_id, kind, meter, project_id, allocation_id, user_id, offering_id,
         provider_id, unit, started_at, ended_at, attributes, quantity, ids) in groups:
        span_ids = tuple(span_id(i) for i in ids.split(","))
        found[org_of[project_id]].append(Span(
            id=span_ids[0], project_id=str(text(project_id)), resource_kind=kind,
            resource_id=resource_id, meter=meter,
            quantity=Decimal(quantity).scaleb(-6) if micro else Decimal(quantity), unit=unit,
            started_at=started_at, ended_at=ended_at, offering_id=text(offering_id),
            provider_id=text(provider_id), user_id=text(user_id),
            attributes=shape(attributes), plan_id=plan_of(allocation_id, offering_id),
            span_ids=span_ids))
    for (one_id, project_id, kind, resource_id, meter, quantity, unit, started_at,
         ended_at, offering_id, provider_id, user_id, attributes, allocation_id) in singles:
        found[org_of[project_id]].append(Span(
            id=str(one_id), project_id=str(text(project_id)), resource_kind=kind,
            resource_id=resource_id, meter=meter, quantity=quantity, unit=unit,
            started_at=started_at, ended_at=ended_at, offering_id=text(offering_id),
            provider_id=text(provider_id), user_id=text(user_id),
            attributes=attributes or {}, plan_id=plan_of(allocation_id, offering_id)))
    return found


def _of_orgs(stmt: Select[Any], org_ids: set[uuid.UUID] | None) -> Select[Any]:
    if org_ids is None:
        return stmt
    return stmt.where(UsageSpan.project_id.in_(
        select(Project.id).where(Project.organization_id.in_(org_ids))))


def _orgs_of(session: Session, project_ids: set[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """Each project's sponsoring organization."""
    found: dict[uuid.UUID, uuid.UUID] = {}
    ordered = sorted(project_ids)
    for start in range(0, len(ordered), 500):
        found.update((project_id, org_id) for project_id, org_id in session.execute(
            select(Project.id, Project.organization_id).where(
                Project.id.in_(ordered[start:start + 500]))))
    return found


def _summed_columns(micro: bool) -> list[ColumnElement[Any]]:
    """Per owner, shape and stretch between cuts: first start, last end, shape, the
    exact sum of the quantities (micro-units on SQLite) and the span ids."""
    quantity = func.sum(cast(func.round(UsageSpan.quantity * MICRO_UNITS), BigInteger)) \
        if micro else func.sum(UsageSpan.quantity)
    return [*OWNER, func.min(UsageSpan.started_at).label("started_at"),
            func.max(UsageSpan.ended_at).label("ended_at"), SHAPE.label("shape"),
            type_coerce(quantity, NullType()).label("quantity"),
            func.aggregate_strings(cast(UsageSpan.id, String), ",").label("ids")]


def _id_of(sqlite: bool) -> Callable[[str], str]:
    """A span's id as ``str(uuid)`` writes it, from its text in the database (SQLite
    keeps 32 bare hex digits; PostgreSQL writes the dashes already)."""
    if not sqlite:
        return str
    return lambda h: f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _texts() -> Callable[[uuid.UUID | None], str | None]:
    """``str(value)``, once per distinct object (reads give one object per distinct id)."""
    memo: dict[int, str] = {}

    def text(value: uuid.UUID | None) -> str | None:
        if value is None:
            return None
        found = memo.get(id(value))
        if found is None:
            found = memo[id(value)] = str(value)
        return found

    return text


def _shapes() -> Callable[[str | None], dict[str, Any]]:
    """Attributes from their JSON text, parsed once per distinct text."""
    memo: dict[str | None, dict[str, Any]] = {}

    def shape(raw: str | None) -> dict[str, Any]:
        found = memo.get(raw)
        if found is None:
            found = memo[raw] = (json.loads(raw) if raw else None) or {}
        return found

    return shape


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
