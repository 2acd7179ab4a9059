"""Rating what an allocation commits to, not what it uses: limit, fixed and one-time rates.

Usage rates price usage spans (``rating``); the other rate kinds of a plan price the
allocation itself, from its recorded history (see docs/billing.md, "Quota, fees and
one-time charges"):

- **limit**: quota x time. Each hour (day, month: the rate's unit says) of each unit of
  quota the allocation held while it was billed, cut at quota changes, rate boundaries
  and outages.
- **fixed**: a monthly fee, prorated by days: each UTC day of the month in which the
  allocation was billed at some moment (outside outages) costs 1/(days in the month) of
  the rate in force at the first such moment of that day.
- **one-time**: the rate in force when the allocation first became active, charged in
  that month only: the history never changes, so regenerating a draft or rating a later
  month never charges it again.

An allocation is *billed* while it is active or changing (``USABLE``): from the first
``allocation.active`` of the audit trail, never before approval, never while expired,
disabled, releasing or released, never after its ``ends_at``. Quotas come from the
``allocation.request`` audit event and the approved quota changes, each in force from
the instant it was approved. Lines are rounded like usage lines (``rating``).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ocx.domain.allocations.models import Allocation, AllocationChange, ChangeKind, ChangeState
from ocx.domain.allocations.states import USABLE, AllocationState
from ocx.domain.audit.models import AuditEvent
from ocx.domain.billing.errors import Unpriced
from ocx.domain.billing.pricebook import outage_windows
from ocx.domain.billing.rating import LineKey, RatedLine, Window, _subtract
from ocx.domain.identity.models import Project
from ocx.domain.marketplace.models import Offering, Plan, Rate, RateKind
from ocx.domain.marketplace.service import find_plan
from ocx.persistence.base import utcnow

COMMITTED = (RateKind.LIMIT, RateKind.FIXED, RateKind.ONE_TIME)
RESOURCE_KIND = "allocation"  # the resource kind of every committed line
REQUEST_ACTION = "allocation.request"
STATE_ACTIONS = {f"allocation.{state.value}": state for state in AllocationState}
LIMIT_PER = {"hour": timedelta(hours=1), "day": timedelta(days=1)}  # and "month"
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Fee:
    """A limit, fixed or one-time rate of a plan, in force over [valid_from, valid_until)."""

    id: str
    component: str
    kind: RateKind
    unit: str
    unit_price: Decimal
    valid_from: datetime
    valid_until: datetime | None = None

    def covers(self, window: Window) -> Window | None:
        """The part of ``window`` this rate is in force in, if any."""
        start = max(window.start, self.valid_from)
        end = min(window.end, self.valid_until or window.end)
        return Window(start, end) if start < end else None


@dataclass(frozen=True)
class Commitment:
    """One allocation as committed rating sees it: where its lines go, and its history."""

    allocation_id: str
    project_id: str
    offering_id: str
    provider_id: str
    billed: tuple[Window, ...]  # when it was active or changing, in time order
    quotas: tuple[tuple[datetime, Mapping[str, int]], ...]  # each in force from its instant

    @property
    def first_active(self) -> datetime | None:
        """When it first became active (what a one-time rate is charged for)."""
        return self.billed[0].start if self.billed else None

    def key(self, fee: Fee) -> LineKey:
        """The line ``fee`` adds up into for this allocation."""
        return LineKey(self.project_id, None, self.provider_id, self.offering_id,
                       RESOURCE_KIND, self.allocation_id, f"{fee.kind.value}.{fee.component}"[:63],
                       fee.component, fee.unit, fee.id, fee.unit_price)


def _micros(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)


def billed_pieces(commitment: Commitment, within: Window,
                  outages: Iterable[Window] = ()) -> list[Window]:
    """The allocation's billed time inside ``within``, minus outages, in time order."""
    pieces: list[Window] = []
    for window in commitment.billed:
        start, end = max(window.start, within.start), min(window.end, within.end)
        if start < end:
            pieces += _subtract(start, end, outages)
    return pieces


def _quota_pieces(commitment: Commitment, window: Window
                  ) -> Iterator[tuple[Window, Mapping[str, int]]]:
    """``window`` cut where the quota changed, with the quota in force in each piece."""
    steps = commitment.quotas
    for i, (since, quota) in enumerate(steps):
        until = steps[i + 1][0] if i + 1 < len(steps) else None
        start = window.start if i == 0 else max(window.start, since)
        end = window.end if until is None else min(window.end, until)
        if start < end:
            yield Window(start, end), quota


def _limit_unit(fee: Fee, period: Window) -> timedelta:
    per = fee.unit.rsplit("-", 1)[-1]
    if per == "month":
        return period.end - period.start
    if per not in LIMIT_PER:
        raise Unpriced(f"the limit rate of {fee.component} is per {fee.unit}; a limit rate "
                       "is per unit of quota per hour, day or month (e.g. core-hour)")
    return LIMIT_PER[per]


def _rate_limit(commitment: Commitment, fee: Fee, period: Window,
                outages: Sequence[Window]) -> Fraction:
    """Quota x time of ``fee``'s component, in units of ``fee``."""
    unit = _micros(_limit_unit(fee, period))
    quantity = Fraction(0)
    for piece in billed_pieces(commitment, period, outages):
        priced = fee.covers(piece)
        if priced is None:
            continue
        for part, quota in _quota_pieces(commitment, priced):
            held = quota.get(fee.component, 0)
            if held < 0:
                raise Unpriced(f"allocation {commitment.allocation_id} has an unlimited "
                               f"{fee.component} quota ({held}): a limit rate cannot price it")
            quantity += Fraction(held * _micros(part.end - part.start), unit)
    return quantity


def _day_fee(commitment: Commitment, fees: Sequence[Fee], day: Window,
             outages: Sequence[Window]) -> Fee | None:
    """The fixed rate a day is charged at: the one in force at the day's first billed
    instant that any rate covers; None when the day is not charged."""
    found: tuple[datetime, Fee] | None = None
    for piece in billed_pieces(commitment, day, outages):
        for fee in fees:
            priced = fee.covers(piece)
            if priced is not None and (found is None or priced.start < found[0]):
                found = (priced.start, fee)
    return found[1] if found else None


def _rate_fixed(commitment: Commitment, fees: Sequence[Fee], period: Window,
                outages: Sequence[Window]) -> dict[Fee, Fraction]:
    """Months of each fixed rate of one component: charged days / days in the month."""
    for fee in fees:
        if fee.unit != "month" and not fee.unit.endswith("-month"):
            raise Unpriced(f"the fixed rate of {fee.component} is per {fee.unit}; a fixed "
                           "rate is a monthly fee (unit month)")
    days = (period.end - period.start) // DAY
    charged: dict[Fee, Fraction] = defaultdict(Fraction)
    for n in range(days):
        day = Window(period.start + n * DAY, period.start + (n + 1) * DAY)
        charged_at = _day_fee(commitment, fees, day, outages)
        if charged_at is not None:
            charged[charged_at] += Fraction(1, days)
    return charged


def _rate_one_time(commitment: Commitment, fees: Sequence[Fee], period: Window
                   ) -> dict[Fee, Fraction]:
    first = commitment.first_active
    if first is None or not period.start <= first < period.end:
        return {}
    fee = next((f for f in fees if f.covers(Window(first, first + timedelta.resolution))),
               None)
    return {fee: Fraction(1)} if fee else {}


def rate_commitment(commitment: Commitment, fees: Iterable[Fee], period: Window,
                    outages: Sequence[Window] = ()) -> list[RatedLine]:
    """The allocation's limit, fixed and one-time lines in ``period`` (a calendar month).

    Outages remove limit time and fixed-fee days; a one-time charge ignores them.

    Raises:
        Unpriced: a limit or fixed rate in a unit this module cannot price, or a limit
            rate on an unlimited (negative) quota.
    """
    by_component: dict[tuple[RateKind, str], list[Fee]] = defaultdict(list)
    for fee in fees:
        by_component[(fee.kind, fee.component)].append(fee)
    quantities: dict[Fee, Fraction] = {}
    for (kind, _), group in sorted(by_component.items()):
        group.sort(key=lambda f: f.valid_from)
        if kind is RateKind.LIMIT:
            quantities |= {fee: _rate_limit(commitment, fee, period, outages) for fee in group}
        elif kind is RateKind.FIXED:
            quantities |= _rate_fixed(commitment, group, period, outages)
        else:
            quantities |= _rate_one_time(commitment, group, period)
    lines = [RatedLine(commitment.key(fee), quantity, set())
             for fee, quantity in quantities.items() if quantity]
    return sorted(lines, key=lambda line: line.key.sort_key())


def merge(currency: str, lines: list[RatedLine], committed: Sequence[tuple[str, RatedLine]]
          ) -> tuple[str, list[RatedLine]]:
    """An organization's usage lines (priced in ``currency``) with its committed lines
    (each with its plan's currency): one currency, lines in a fixed order.

    Raises:
        Unpriced: the lines are in several currencies.
    """
    if not committed:
        return currency, lines
    currencies = {c for c, _ in committed} | ({currency} if lines else set())
    if len(currencies) > 1:
        raise Unpriced(f"charges are priced in several currencies ({', '.join(sorted(currencies))})"
                       "; one invoice has one currency")
    merged = [*lines, *(line for _, line in committed)]
    return currencies.pop(), sorted(merged, key=lambda line: line.key.sort_key())


# --- reading allocations, their history and their plans' rates ---------------------------

def billed_windows(events: Iterable[tuple[datetime, AllocationState]], allocation: Allocation,
                   now: datetime) -> tuple[Window, ...]:
    """When an allocation was billed, from its state moves (time order) up to ``now``.

    An allocation without recorded moves (made outside the request flow) is billed from
    its start while it is usable now.
    """
    moves = list(events)
    if not moves:
        moves = [(allocation.starts_at, allocation.state)]
    windows: list[Window] = []
    since: datetime | None = None
    for at, state in [*moves, (now, AllocationState.RELEASED)]:
        if state in USABLE and since is None:
            since = at
        elif state not in USABLE and since is not None:
            windows.append(Window(since, at))
            since = None
    if allocation.ends_at is not None:
        windows = [Window(w.start, min(w.end, allocation.ends_at)) for w in windows
                   if w.start < allocation.ends_at]
    return tuple(w for w in windows if w.start < w.end)


def _fees(plans: Iterable[Plan], start: datetime, end: datetime) -> dict[uuid.UUID, list[Fee]]:
    return {plan.id: [Fee(str(r.id), r.component, r.kind, r.unit, r.unit_price, r.valid_from,
                          r.valid_until) for r in plan.rates
                      if r.kind in COMMITTED and r.valid_from < end
                      and (r.valid_until is None or r.valid_until > start)]
            for plan in plans}


def _candidates(session: Session, org_ids: set[uuid.UUID] | None, start: datetime,
                end: datetime) -> list[tuple[Allocation, Plan]]:
    """Allocations that may have been billed in [start, end) under a plan with committed
    rates in force then, each with that plan."""
    plan_ids = set(session.scalars(select(Rate.plan_id).where(
        Rate.kind.in_(COMMITTED), Rate.valid_from < end,
        or_(Rate.valid_until.is_(None), Rate.valid_until > start))))
    if not plan_ids:
        return []
    offering_ids = set(session.scalars(select(Plan.offering_id).where(Plan.id.in_(plan_ids))))
    stmt = (select(Allocation).join(Project, Project.id == Allocation.project_id).where(
        Allocation.offering_id.in_(offering_ids), Allocation.starts_at < end,
        Allocation.state.not_in((AllocationState.REQUESTED, AllocationState.DENIED))))
    if org_ids is not None:
        stmt = stmt.where(Project.organization_id.in_(org_ids))
    found = []
    for allocation in session.scalars(stmt):
        plan = allocation.plan or find_plan(session, allocation.offering, None)
        if plan is not None and plan.id in plan_ids:
            found.append((allocation, plan))
    return found


def _histories(session: Session, allocations: Sequence[Allocation]
               ) -> tuple[dict[str, list[tuple[datetime, AllocationState]]],
                          dict[str, dict[str, Any]]]:
    """Each allocation's state moves in time order, and the quota it was requested with."""
    moves: dict[str, list[tuple[datetime, AllocationState]]] = defaultdict(list)
    requested: dict[str, dict[str, Any]] = {}
    rows = session.execute(select(AuditEvent.target_id, AuditEvent.action,
                                  AuditEvent.created_at, AuditEvent.changes).where(
        AuditEvent.target_type == "allocation",
        AuditEvent.target_id.in_([str(a.id) for a in allocations]),
        AuditEvent.action.in_([*STATE_ACTIONS, REQUEST_ACTION]))
        .order_by(AuditEvent.created_at))
    for target_id, action, created_at, changes in rows:
        if action == REQUEST_ACTION:
            requested.setdefault(target_id, dict((changes or {}).get("quota") or {}))
        else:
            moves[target_id].append((created_at, STATE_ACTIONS[action]))
    return moves, requested


def _quota_steps(session: Session, allocations: Sequence[Allocation],
                 requested: Mapping[str, dict[str, Any]]
                 ) -> dict[str, tuple[tuple[datetime, Mapping[str, int]], ...]]:
    """Each allocation's quota over time: as requested, then each approved change."""
    changes: dict[uuid.UUID, list[AllocationChange]] = defaultdict(list)
    for change in session.scalars(select(AllocationChange).where(
            AllocationChange.allocation_id.in_([a.id for a in allocations]),
            AllocationChange.kind == ChangeKind.QUOTA,
            AllocationChange.state == ChangeState.APPROVED)
            .order_by(AllocationChange.decided_at)):
        changes[change.allocation_id].append(change)
    steps = {}
    for allocation in allocations:
        # Made outside the request flow: its current quota is all that is known.
        quota: Mapping[str, int] = requested.get(str(allocation.id), allocation.quota)
        history = [(allocation.starts_at, quota)]
        for change in changes[allocation.id]:
            quota = {**quota, **change.quota}
            history.append((change.decided_at or change.created_at, quota))
        steps[str(allocation.id)] = tuple(history)
    return steps


def committed_lines(session: Session, org_ids: set[uuid.UUID] | None, start: datetime,
                    end: datetime, now: datetime | None = None
                    ) -> dict[uuid.UUID, list[tuple[str, RatedLine]]]:
    """Limit, fixed and one-time lines of [start, end) by organization, each with its
    plan's currency (history up to ``now``: a month in progress is charged so far).

    Raises:
        Unpriced: a committed rate this module cannot price (see ``rate_commitment``).
    """
    candidates = _candidates(session, org_ids, start, end)
    if not candidates:
        return {}
    now = now or utcnow()
    allocations = [a for a, _ in candidates]
    moves, requested = _histories(session, allocations)
    quotas = _quota_steps(session, allocations, requested)
    fees = _fees({plan for _, plan in candidates}, start, end)
    outages: dict[uuid.UUID, list[Window]] = {}
    found: dict[uuid.UUID, list[tuple[str, RatedLine]]] = defaultdict(list)
    for allocation, plan in candidates:
        offering: Offering = allocation.offering
        if offering.id not in outages:
            outages[offering.id] = outage_windows(session, offering)
        commitment = Commitment(
            str(allocation.id), str(allocation.project_id), str(offering.id),
            str(offering.provider_id), billed_windows(moves[str(allocation.id)], allocation, now),
            quotas[str(allocation.id)])
        for line in rate_commitment(commitment, fees[plan.id], Window(start, end),
                                    outages[offering.id]):
            found[allocation.project.organization_id].append((plan.currency, line))
    return dict(found)
