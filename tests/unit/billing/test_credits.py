"""The order credits and subsidies are used in, by hand and as properties."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocx.domain.billing.credits import Available, Owed, apply_credits

pytestmark = pytest.mark.billing
D = Decimal


def credit(credit_id: str, left: str, *, project: str | None = None, percent: str = "100",
           excluded: tuple[str, ...] = (), priority: int = 100, until: str = "9999") -> Available:
    order = (0 if project else 1, priority, until, "2026-01-01", credit_id)
    return Available(credit_id, project, D(left), D(percent), excluded, order)


LINES = [Owed("p1", "cpu_su", D("40.00")), Owed("p1", "gpu_a100_su", D("72.00")),
         Owed("p2", "storage_gib", D("10.01"))]


def test_project_credits_first_then_priority_then_expiry() -> None:
    used = apply_credits(LINES, [
        credit("org-late", "1000", priority=5, until="2027"),
        credit("org-soon", "5", priority=5, until="2026"),
        credit("new-pi", "50", project="p1", excluded=("gpu*",), priority=900),
    ])
    # new-pi (p1's own) pays p1's CPU line only; org-soon expires first; org-late the rest
    assert used == [("new-pi", "p1", D("40.00")), ("org-soon", "p1", D("5.00")),
                    ("org-late", "p1", D("67.00")), ("org-late", "p2", D("10.01"))]


def test_a_subsidy_pays_a_share_of_each_line_rounded_half_to_even() -> None:
    used = apply_credits(LINES, [credit("half", "100", percent="50")])
    # 20.00 + 36.00 + 5.005 -> 5.00 (half to even)
    assert used == [("half", "p1", D("56.00")), ("half", "p2", D("5.00"))]
    capped = apply_credits(LINES, [credit("half", "30", percent="50")])
    assert capped == [("half", "p1", D("30.00"))]


def test_credits_of_other_projects_and_excluded_components_pay_nothing() -> None:
    assert apply_credits(LINES, [credit("p3-only", "100", project="p3"),
                                 credit("no-gpu", "100", project="p1",
                                        excluded=("gpu*", "cpu*"))]) == []


AMOUNTS = st.decimals(min_value=0, max_value=10000, places=2)
OWED = st.lists(st.builds(Owed, st.sampled_from(["p1", "p2"]),
                          st.sampled_from(["cpu_su", "gpu_su", "storage_gib"]), AMOUNTS),
                max_size=12)
CREDITS = st.lists(st.builds(
    lambda i, left, project, percent, excluded, priority: credit(
        f"c{i}", str(left), project=project, percent=str(percent), excluded=excluded,
        priority=priority),
    st.integers(0, 10**6), AMOUNTS, st.sampled_from([None, "p1", "p2"]),
    st.decimals(min_value="0.01", max_value=100, places=2),
    st.sampled_from([(), ("gpu*",), ("storage*", "cpu*")]), st.integers(0, 3)),
    max_size=5, unique_by=lambda c: c.id)


@settings(max_examples=300, deadline=None)
@given(OWED, CREDITS)
def test_credits_never_pay_more_than_owed_or_than_they_hold(lines: list[Owed],
                                                            credits: list[Available]) -> None:
    used = apply_credits(lines, credits)
    by_credit: dict[str, Decimal] = defaultdict(Decimal)
    by_project: dict[str, Decimal] = defaultdict(Decimal)
    for credit_id, project, amount in used:
        assert amount > 0 and amount == amount.quantize(D("0.01"))
        by_credit[credit_id] += amount
        by_project[project] += amount
    held = {c.id: c for c in credits}
    for credit_id, amount in by_credit.items():
        assert amount <= held[credit_id].left
    for project, amount in by_project.items():
        assert amount <= sum((li.amount for li in lines if li.project_id == project), D(0))
    for credit_id, project, _ in used:
        c = held[credit_id]
        assert c.project_id in (None, project)
        assert any(li.project_id == project and not any(
            li.component.startswith(p.rstrip("*")) for p in c.excluded) for li in lines)
