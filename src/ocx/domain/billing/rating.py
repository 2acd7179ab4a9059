"""Rating: usage spans x the price book -> priced quantities, exactly.

Pure functions over plain values (no database), so that the rules can be tested, and
property-tested, on their own. The one rounding rule of OCX billing lives here:

    Quantities are kept exact (rational numbers) while spans are split at month, rate
    and outage boundaries and summed; each invoice line's amount, quantity x unit price,
    is rounded once, half to even, to the cent. Totals are sums of rounded lines.
"""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, Inexact
from fractions import Fraction
from typing import Any

from ocx.domain.billing.errors import Unpriced
from ocx.domain.billing.schemas import RatingRules, ServiceUnit

SERVER_METER = "compute.server"
SU_UNIT = "SU-hour"
CENT = Decimal("0.01")
MICRO = timedelta(microseconds=1)
# Sums of quantities: exact (any rounding would raise, never happen silently).
EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[Inexact])


def to_cents(value: Fraction) -> Decimal:
    """``value`` rounded half to even to the cent: the only rounding of money in OCX."""
    return Decimal(round(value * 100)).scaleb(-2).quantize(CENT)


def to_places(value: Fraction, places: int = 6) -> Decimal:
    """``value`` rounded half to even to ``places`` decimals (for showing quantities)."""
    scale: int = 10 ** places
    return Decimal(round(value * scale)).scaleb(-places)


@dataclass(frozen=True)
class Span:
    """A usage span as rating sees it (see METERS.md for the meters)."""

    id: int
    project_id: str
    resource_kind: str
    resource_id: str
    meter: str
    quantity: Decimal
    unit: str
    started_at: datetime
    ended_at: datetime
    offering_id: str | None = None
    provider_id: str | None = None
    user_id: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    plan_id: str | None = None  # the plan pricing it (its allocation's, or the offering's)
    # The recorded spans this one stands for, when it is their sum (billing.spans): they
    # are priced alike over all of [started_at, ended_at). Empty: just ``id``.
    span_ids: tuple[int, ...] = ()

    @property
    def sources(self) -> tuple[int, ...]:
        """The ids of the recorded spans this one stands for."""
        return self.span_ids or (self.id,)


@dataclass(frozen=True)
class Price:
    """A usage rate of a component, in force over [valid_from, valid_until)."""

    id: str | None
    component: str
    unit: str
    unit_price: Decimal
    valid_from: datetime
    valid_until: datetime | None = None


@dataclass(frozen=True)
class Book:
    """What prices one offering's usage: its plan's rules and usage rates."""

    plan_id: str
    currency: str
    rules: RatingRules
    prices: tuple[Price, ...]

    def prices_of(self, component: str) -> list[Price]:
        """The component's rates, oldest first."""
        return sorted((p for p in self.prices if p.component == component),
                      key=lambda p: p.valid_from)


@dataclass(frozen=True)
class Window:
    """A time window [start, end), e.g. an outage."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class LineKey:
    """What one invoice line adds up: a project's resource, meter, component and rate."""

    project_id: str
    user_id: str | None
    provider_id: str | None
    offering_id: str | None
    resource_kind: str
    resource_id: str
    meter: str
    component: str
    unit: str
    rate_id: str | None
    unit_price: Decimal

    def sort_key(self) -> tuple[str, ...]:
        """A total order, so that lines never depend on the order spans came in."""
        return (self.project_id, self.resource_kind, self.resource_id, self.meter,
                self.component, self.user_id or "", self.offering_id or "",
                self.rate_id or "", str(self.unit_price))


@dataclass
class RatedLine:
    """An exact quantity of one line key, and the spans it came from."""

    key: LineKey
    quantity: Fraction = Fraction(0)
    span_ids: set[int] = field(default_factory=set)

    @property
    def amount(self) -> Decimal:
        """Quantity x unit price, rounded half to even to the cent."""
        return to_cents(self.quantity * Fraction(self.key.unit_price))


def _micros(delta: timedelta) -> int:
    return delta // MICRO


def _subtract(start: datetime, end: datetime, holes: Iterable[Window]) -> list[Window]:
    """[start, end) minus the holes, as disjoint windows in time order."""
    pieces = [Window(start, end)]
    for hole in sorted(holes, key=lambda w: w.start):
        rest: list[Window] = []
        for piece in pieces:
            if hole.end <= piece.start or hole.start >= piece.end:
                rest.append(piece)
                continue
            if piece.start < hole.start:
                rest.append(Window(piece.start, hole.start))
            if hole.end < piece.end:
                rest.append(Window(hole.end, piece.end))
        pieces = rest
    return pieces


def service_unit_count(unit: ServiceUnit, attributes: Mapping[str, Any]) -> Fraction:
    """How many service units a server of this shape is: the largest of its ratios."""
    ratios = [Fraction(int(attributes.get("vcpus") or 0)) / Fraction(unit.vcpus),
              Fraction(int(attributes.get("ram_mib") or 0)) / Fraction(unit.ram_mib)]
    if unit.gpus:
        ratios.append(Fraction(int(attributes.get("gpus") or 0)) / Fraction(unit.gpus))
    return max(ratios)


def _server_measure(rules: RatingRules, span: Span) -> tuple[str, str, Fraction] | None:
    """(component, unit, SU per hour of the span) for a billed server span, else None."""
    if str(span.attributes.get("state", "active")) not in rules.billed_states:
        return None
    gpu_type = span.attributes.get("gpu_type") if span.attributes.get("gpus") else None
    unit = next((u for u in rules.service_units if u.gpu_type == gpu_type), None)
    if unit is None:
        raise Unpriced(f"no service unit for servers with gpu_type {gpu_type or 'none'} "
                       f"(span {span.id})")
    return unit.component, SU_UNIT, service_unit_count(unit, span.attributes)


def measure(rules: RatingRules, span: Span) -> tuple[str, str, Fraction] | None:
    """(component, unit, factor): the span's priced quantity is its quantity x factor.

    None when the span is not billed (a server state the plan does not bill).

    Raises:
        Unpriced: the plan says nothing about this meter.
    """
    if span.meter == SERVER_METER:
        return _server_measure(rules, span)
    for rule in rules.meters:
        if fnmatch.fnmatchcase(span.meter, rule.meter):
            return rule.component, span.unit, Fraction(1)
    raise Unpriced(f"the plan has no rule for meter {span.meter} (span {span.id})")


def _priced_pieces(book: Book, component: str, unit: str, windows: list[Window],
                   span: Span) -> Iterable[tuple[Price, Window]]:
    """Each window cut at the component's rate boundaries, with the rate in force."""
    prices = book.prices_of(component)
    for window in windows:
        covered = 0
        for price in prices:
            start = max(window.start, price.valid_from)
            end = min(window.end, price.valid_until or window.end)
            if start < end:
                if price.unit != unit:
                    raise Unpriced(f"the rate of {component} is per {price.unit} but usage "
                                   f"is counted in {unit} (span {span.id})")
                covered += _micros(end - start)
                yield price, Window(start, end)
        if covered != _micros(window.end - window.start):
            raise Unpriced(f"no usage rate for {component} covers all of "
                           f"{window.start.isoformat()} to {window.end.isoformat()} "
                           f"(span {span.id})")


def rate_span(span: Span, book: Book, period: Window, outages: Iterable[Window],
              into: dict[LineKey, RatedLine]) -> None:
    """Add the span's billed part within ``period``, minus outages, to the lines ``into``.

    Raises:
        Unpriced: some of the usage has no rule or no rate in force.
    """
    start, end = max(span.started_at, period.start), min(span.ended_at, period.end)
    total = _micros(span.ended_at - span.started_at)
    if start >= end or total <= 0:
        return
    measured = measure(book.rules, span)
    if measured is None:
        return
    component, unit, factor = measured
    per_micro = Fraction(span.quantity) * factor / total
    for price, piece in _priced_pieces(book, component, unit,
                                       _subtract(start, end, outages), span):
        key = LineKey(span.project_id, span.user_id, span.provider_id, span.offering_id,
                      span.resource_kind, span.resource_id, span.meter, component, unit,
                      price.id, price.unit_price)
        line = into.get(key) or into.setdefault(key, RatedLine(key))
        line.quantity += per_micro * _micros(piece.end - piece.start)
        line.span_ids.update(span.sources)


class _Lines:
    """The lines being built by :func:`rate`, with a fast path for the usual span: wholly
    in the period, no outage, one rate over all of it. Such a span adds exactly
    ``quantity x factor``, so its quantities are summed per (line, factor) as exact
    decimals and turned into fractions once per line at the end: same sums, exactly."""

    def __init__(self) -> None:
        self.lines: dict[LineKey, RatedLine] = {}
        self.by_values: dict[tuple[Any, ...], RatedLine] = {}
        self.pending: dict[tuple[int, int], tuple[RatedLine, Fraction, Decimal]] = {}
        self.measures: dict[tuple[Any, ...], tuple[str, str, Fraction] | None] = {}

    def measure(self, rules: RatingRules, span: Span) -> tuple[str, str, Fraction] | None:
        """:func:`measure`, remembered per plan and server shape."""
        if span.meter != SERVER_METER:
            return measure(rules, span)
        a = span.attributes
        try:
            key = (id(rules), a.get("state", "active"), a.get("gpus"), a.get("gpu_type"),
                   a.get("vcpus"), a.get("ram_mib"))
            hash(key)
        except TypeError:  # an unhashable value: measured every time
            return measure(rules, span)
        if key not in self.measures:
            self.measures[key] = measure(rules, span)
        return self.measures[key]

    def add_whole(self, span: Span, book: Book, period: Window,
                  outages: list[Window]) -> bool:
        """Add the span on the fast path; False when it needs :func:`rate_span`."""
        start, end = span.started_at, span.ended_at
        if not period.start <= start < end <= period.end or any(
                w.start < end and start < w.end for w in outages):
            return False
        measured = self.measure(book.rules, span)
        if measured is None:
            return True  # not billed
        component, unit, factor = measured
        touching = [p for p in book.prices if p.component == component
                    and p.valid_from < end and (p.valid_until is None or start < p.valid_until)]
        if len(touching) != 1:
            return False
        price = touching[0]
        if price.unit != unit or price.valid_from > start or (
                price.valid_until is not None and price.valid_until < end):
            return False
        values = (span.project_id, span.user_id, span.provider_id, span.offering_id,
                  span.resource_kind, span.resource_id, span.meter, component, unit,
                  price.id, price.unit_price)
        line = self.by_values.get(values)
        if line is None:
            key = LineKey(*values)
            line = self.by_values[values] = self.lines.get(key) or self.lines.setdefault(
                key, RatedLine(key))
        slot = (id(line), id(factor))  # both kept alive by the entry
        held = self.pending.get(slot)
        self.pending[slot] = (line, factor, EXACT.add(held[2], span.quantity) if held
                              else span.quantity)
        line.span_ids.update(span.sources)
        return True

    def done(self) -> list[RatedLine]:
        """The lines with their summed quantities, in a fixed order."""
        for line, factor, quantity in self.pending.values():
            line.quantity += Fraction(quantity) * factor
        self.pending.clear()
        return sorted((line for line in self.lines.values() if line.quantity),
                      key=lambda line: line.key.sort_key())


def rate(spans: Iterable[Span], books: Mapping[str, Book], period: Window,
         outages: Mapping[str, list[Window]]) -> list[RatedLine]:
    """Rate every span (``books`` keyed by plan id, ``outages`` by offering id); lines
    in a fixed order. Spans without an offering are outside the marketplace: not rated.

    Raises:
        Unpriced: some usage has no rule or no rate in force.
    """
    lines = _Lines()
    for span in spans:
        if span.offering_id is None:
            continue
        book = books.get(span.plan_id or "")
        if book is None:
            raise Unpriced(f"no plan prices offering {span.offering_id}'s span {span.id}; "
                           "give the offering one plan, or the allocation its plan")
        windows = outages.get(span.offering_id, [])
        if not lines.add_whole(span, book, period, windows):
            rate_span(span, book, period, windows, lines.lines)
    return lines.done()


def rollup(lines: Iterable[RatedLine], by: str) -> dict[str | None, Decimal]:
    """Sum of line amounts grouped by a line key field (project_id, user_id, ...)."""
    sums: dict[str | None, Decimal] = defaultdict(Decimal)
    for line in lines:
        sums[getattr(line.key, by)] += line.amount
    return dict(sums)
