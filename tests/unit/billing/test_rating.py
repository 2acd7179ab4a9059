"""Rating rules by hand, and its properties (hypothesis)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocx.domain.billing.errors import Unpriced
from ocx.domain.billing.rating import (
    Book,
    Price,
    RatedLine,
    Span,
    Window,
    rate,
    rollup,
    service_unit_count,
    to_cents,
)
from ocx.domain.billing.schemas import RatingRules, ServiceUnit, month_bounds

pytestmark = pytest.mark.billing
T0 = datetime(2026, 10, 1, tzinfo=UTC)
OCTOBER = Window(*month_bounds("2026-10"))
RULES = RatingRules(service_units=[
    ServiceUnit(component="cpu_su"),
    ServiceUnit(component="gpu_su", gpu_type="a100", vcpus=Decimal(16), ram_mib=Decimal(65536),
                gpus=Decimal(1))])
BOOK = Book("plan", "USD", RULES, (
    Price("r1", "cpu_su", "SU-hour", Decimal("0.013"), datetime(2026, 1, 1, tzinfo=UTC),
          T0 + timedelta(days=15)),
    Price("r2", "cpu_su", "SU-hour", Decimal("0.015"), T0 + timedelta(days=15)),
    Price("r3", "gpu_su", "SU-hour", Decimal("1.5"), datetime(2026, 1, 1, tzinfo=UTC)),
    Price("r4", "storage_gib", "GiB-hour", Decimal("0.0001"), datetime(2026, 1, 1, tzinfo=UTC)),
))


def server(start: datetime, hours: float, *, span_id: int = 1, vcpus: int = 4,
           ram_mib: int = 8192, state: str = "active", project: str = "p",
           user: str | None = "u", gpus: int = 0) -> Span:
    end = start + timedelta(hours=hours)
    return Span(span_id, project, "server", f"vm-{project}", "compute.server",
                Decimal(str(hours)), "hour", start, end, offering_id="o", plan_id="plan",
                user_id=user, attributes={"vcpus": vcpus, "ram_mib": ram_mib, "gpus": gpus,
                                          "gpu_type": "a100" if gpus else None,
                                          "state": state})


def quantities(lines: list[RatedLine]) -> dict[tuple[str, str | None], Fraction]:
    return {(line.key.resource_id, line.key.rate_id): line.quantity for line in lines}


def test_service_units_are_the_largest_ratio() -> None:
    cpu, gpu = RULES.service_units
    assert service_unit_count(cpu, {"vcpus": 2, "ram_mib": 16384}) == 4
    assert service_unit_count(cpu, {"vcpus": 3, "ram_mib": 2048}) == 3
    assert service_unit_count(cpu, {"vcpus": 1, "ram_mib": 6144}) == Fraction(3, 2)
    assert service_unit_count(gpu, {"vcpus": 8, "ram_mib": 32768, "gpus": 2}) == 2


def test_a_span_is_split_at_the_month_and_at_the_rate_change() -> None:
    # Sep 30 12:00 to Oct 20 12:00: 12 h in September (not October's), 15 days at the old
    # rate (to Oct 16), 4.5 days at the new one; 4 SU each hour; 1 vCPU / 6 GiB is 1.5 SU
    span = server(T0 - timedelta(hours=12), 20 * 24)
    small = server(T0, 7, span_id=2, vcpus=1, ram_mib=6144, project="q")
    lines = rate([span, small], {"plan": BOOK}, OCTOBER, {})
    assert quantities(lines) == {("vm-p", "r1"): 4 * 15 * 24, ("vm-p", "r2"): 4 * 108,
                                 ("vm-q", "r1"): Fraction(21, 2)}
    # 18.72, 6.48 and 10.5 x 0.013 = 0.1365 -> 0.14
    assert [line.amount for line in lines] == [Decimal("18.72"), Decimal("6.48"),
                                               Decimal("0.14")]


def test_outages_and_unbilled_states_are_left_out() -> None:
    spans = [server(T0, 48), server(T0 + timedelta(days=2), 24, span_id=3, state="shelved")]
    lines = rate(spans, {"plan": BOOK}, OCTOBER,
                 {"o": [Window(T0 + timedelta(hours=10), T0 + timedelta(hours=20))]})
    assert quantities(lines) == {("vm-p", "r1"): 4 * 38}
    assert lines[0].span_ids == {1}


def test_usage_that_nothing_prices_is_an_error() -> None:
    early = server(datetime(2025, 12, 31, 12, tzinfo=UTC), 24)
    with pytest.raises(Unpriced, match="no usage rate for cpu_su"):
        rate([early], {"plan": BOOK}, Window(datetime(2025, 12, 1, tzinfo=UTC),
                                               datetime(2026, 2, 1, tzinfo=UTC)), {})
    other_gpu = Span(4, "p", "server", "vm", "compute.server", Decimal(1), "hour", T0,
                     T0 + timedelta(hours=1), offering_id="o", plan_id="plan",
                     attributes={"vcpus": 1, "ram_mib": 1, "gpus": 1, "gpu_type": "h100"})
    with pytest.raises(Unpriced, match="gpu_type h100"):
        rate([other_gpu], {"plan": BOOK}, OCTOBER, {})
    volume_in_hours = Span(5, "p", "volume", "vol", "volume.storage", Decimal(1), "hour", T0,
                           T0 + timedelta(hours=1), offering_id="o", plan_id="plan")
    with pytest.raises(Unpriced, match="per GiB-hour"):
        rate([volume_in_hours], {"plan": BOOK}, OCTOBER, {})
    with pytest.raises(Unpriced, match="no plan"):
        rate([server(T0, 1)], {}, OCTOBER, {})


def test_spans_outside_the_marketplace_or_empty_are_not_rated() -> None:
    outside = Span(6, "p", "baremetal_node", "n1", "baremetal.node_hours.gpu", Decimal(5),
                   "hour", T0, T0 + timedelta(hours=5))
    assert rate([outside, server(T0, 0)], {"plan": BOOK}, OCTOBER, {}) == []


def test_rounding_is_half_to_even_to_the_cent() -> None:
    assert [to_cents(Fraction(x, 1000)) for x in (5, 15, 25, 35, 3344, -5, -15)] == [
        Decimal("0.00"), Decimal("0.02"), Decimal("0.02"), Decimal("0.04"), Decimal("3.34"),
        Decimal("0.00"), Decimal("-0.02")]


# --- properties ------------------------------------------------------------------------

HOURS = st.integers(min_value=0, max_value=24 * 40 * 60).map(lambda m: m / 60)  # to a minute
SPANS = st.lists(st.tuples(st.integers(-5 * 24 * 60, 35 * 24 * 60), HOURS,
                           st.integers(1, 64), st.integers(512, 262144),
                           st.sampled_from(["active", "stopped", "shelved", "error"]),
                           st.sampled_from(["p1", "p2", "p3"]),
                           st.sampled_from(["u1", "u2", None])), max_size=25)


def build(raw: list[tuple[int, float, int, int, str, str, str | None]]) -> list[Span]:
    return [server(T0 + timedelta(minutes=start), hours, span_id=i, vcpus=vcpus,
                   ram_mib=ram, state=state, project=project, user=user)
            for i, (start, hours, vcpus, ram, state, project, user) in enumerate(raw)]


@settings(max_examples=150, deadline=None)
@given(SPANS, st.randoms(use_true_random=False))
def test_the_order_spans_come_in_does_not_matter(raw: list[tuple], rnd: random.Random) -> None:
    spans = build(raw)
    shuffled = spans[:]
    rnd.shuffle(shuffled)
    first = rate(spans, {"plan": BOOK}, OCTOBER, {})
    again = rate(shuffled, {"plan": BOOK}, OCTOBER, {})
    assert [(li.key, li.quantity, li.span_ids) for li in first] == [
        (li.key, li.quantity, li.span_ids) for li in again]


@settings(max_examples=150, deadline=None)
@given(SPANS)
def test_roll_ups_by_user_project_and_org_agree(raw: list[tuple]) -> None:
    lines = rate(build(raw), {"plan": BOOK}, OCTOBER, {})
    total = sum((line.amount for line in lines), Decimal(0))
    for by in ("project_id", "user_id", "offering_id", "resource_id"):
        assert sum(rollup(lines, by).values(), Decimal(0)) == total
    # an organization is a set of projects: two of them roll up into the same total
    by_project = rollup(lines, "project_id")
    assert by_project.get("p1", 0) + by_project.get("p2", 0) + by_project.get("p3", 0) == total


@settings(max_examples=150, deadline=None)
@given(SPANS, st.lists(st.integers(0, 31 * 24 * 60), max_size=4))
def test_a_checkpoint_anywhere_changes_nothing(raw: list[tuple], cuts: list[int]) -> None:
    """A span closed and reopened at any instant (a collector checkpoint) rates the same."""
    spans = build(raw)
    pieces: list[Span] = []
    for span in (s for s in spans if s.ended_at > s.started_at):
        at = sorted({T0 + timedelta(minutes=c) for c in cuts
                     if span.started_at < T0 + timedelta(minutes=c) < span.ended_at})
        bounds = [span.started_at, *at, span.ended_at]
        total = Fraction(span.quantity)
        length = (span.ended_at - span.started_at).total_seconds()
        for n, (a, b) in enumerate(pairwise(bounds)):
            share = total * Fraction(int((b - a).total_seconds())) / Fraction(int(length))
            pieces.append(Span(span.id * 100 + n, span.project_id, span.resource_kind,
                               span.resource_id, span.meter,
                               Decimal(share.numerator) / Decimal(share.denominator),
                               span.unit, a, b, offering_id="o", plan_id="plan",
                               user_id=span.user_id, attributes=span.attributes))
    whole = {li.key: li.quantity for li in rate(spans, {"plan": BOOK}, OCTOBER, {})}
    cut = {li.key: li.quantity for li in rate(pieces, {"plan": BOOK}, OCTOBER, {})}
    assert whole.keys() == cut.keys()
    for key, quantity in whole.items():  # Decimal's 28 digits of the cut quantities
        assert abs(quantity - cut[key]) < Fraction(1, 10**12)


@settings(max_examples=100, deadline=None)
@given(SPANS)
def test_months_add_up_to_the_whole(raw: list[tuple]) -> None:
    spans = build(raw)
    whole = Window(datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    months = [Window(*month_bounds(p)) for p in ("2026-09", "2026-10", "2026-11")]
    total: dict[object, Fraction] = {}
    for month in months:
        for line in rate(spans, {"plan": BOOK}, month, {}):
            total[line.key] = total.get(line.key, Fraction(0)) + line.quantity
    assert total == {li.key: li.quantity for li in rate(spans, {"plan": BOOK}, whole, {})}
