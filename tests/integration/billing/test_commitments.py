"""Limit, fixed and one-time rates, computed by hand to the cent (docs/billing.md, "Quota,
fees and one-time charges"), and their properties (hypothesis).

Allocations go through the real flow (request, approve, worker, quota change, release),
then their recorded history is moved to the dates of the scenario: the audit events
keep their order and actions, only their times change.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from ocx.domain.allocations.models import Allocation, AllocationChange
from ocx.domain.allocations.states import AllocationState
from ocx.domain.audit.models import AuditEvent
from ocx.domain.billing.commitments import (
    STATE_ACTIONS,
    Commitment,
    Fee,
    billed_windows,
    merge,
    rate_commitment,
)
from ocx.domain.billing.rating import LineKey, RatedLine, Window, to_cents
from ocx.domain.billing.schemas import month_bounds
from ocx.domain.marketplace.models import RateKind
from ocx.runtime import Runtime
from tests.integration.billing.support import API, at, ok
from tests.integration.billing.test_pdf import _pages
from tests.support.operations import run_due_operations
from tests.support.world import World

pytestmark = pytest.mark.billing
OFFERING = "cloudb:reserved"
COMPONENTS = [{"name": "cores", "unit": "core", "max": 64, "default": 8},
              {"name": "instances", "unit": "server", "max": 20, "default": 2}]
RATES = [  # (component, kind, unit, price, from, until)
    ("cores", "limit", "core-hour", "0.01", "2026-01-01T00:00:00Z", "2026-10-16T00:00:00Z"),
    ("cores", "limit", "core-hour", "0.02", "2026-10-16T00:00:00Z", None),
    ("instances", "fixed", "month", "100", "2026-01-01T00:00:00Z", "2026-10-16T00:00:00Z"),
    ("instances", "fixed", "month", "124", "2026-10-16T00:00:00Z", None),
    ("instances", "one_time", "each", "50", "2026-01-01T00:00:00Z", None)]
REQUESTED = ["allocation.request", "allocation.approved", "allocation.provisioning",
             "allocation.active"]
# (meter, unit price) -> (quantity, amount), org-a's October: see docs/billing.md
OCTOBER_A = {
    ("limit.cores", "0.010000"): ("1056.000000", "10.56"),  # 8 cores x 132 h
    ("limit.cores", "0.020000"): ("4944.000000", "98.88"),  # 8 x 102 h + 16 x (282 - 24) h
    ("fixed.instances", "100.000000"): ("0.193548", "19.35"),  # 6 of 31 days; 19.3548
    ("fixed.instances", "124.000000"): ("0.483871", "60.00"),  # 15 of 31 days (not Oct 25)
    ("one_time.instances", "50.000000"): ("1.000000", "50.00"),  # active Oct 10
}
OCTOBER_B = {("limit.cores", "0.010000"): ("422.000000", "4.22"),  # 4 cores x 105.5 h
             ("fixed.instances", "100.000000"): ("0.161290", "16.13")}  # 5 of 31 days
SEPTEMBER_B = {("limit.cores", "0.010000"): ("1008.000000", "10.08"),  # 4 x 252 h
               ("fixed.instances", "100.000000"): ("0.366667", "36.67"),  # 11 of 30 days
               ("one_time.instances", "50.000000"): ("1.000000", "50.00")}  # active Sep 20


@pytest.fixture
def reserved(client: TestClient, world: World) -> None:
    """org-b sells cloudb:reserved, plan "reserved": quota, a monthly fee and a setup fee
    (RATES); cloudb is down on Oct 25."""
    op = world["operator"].headers
    ok(client.post(f"{API}/providers", json={"organization": "org-b", "name": "cloudb"},
                   headers=op), 201)
    ok(client.post(f"{API}/offerings", headers=op, json={
        "provider": "cloudb", "name": "reserved", "kind": "openstack", "driver": "fake",
        "driver_settings": {"cloud": f"reserved-{uuid.uuid4().hex}"},
        "components": COMPONENTS}), 201)
    rates = [{"component": c, "kind": k, "unit": u, "unit_price": p, "valid_from": f,
              "valid_until": until} for c, k, u, p, f, until in RATES]
    ok(client.post(f"{API}/offerings/{OFFERING}/plans", headers=op,
                   json={"name": "reserved", "currency": "USD", "rates": rates}), 201)
    ok(client.post(f"{API}/price-book/outages", headers=op, json={
        "provider": "cloudb", "starts_at": "2026-10-25T00:00:00Z",
        "ends_at": "2026-10-26T00:00:00Z", "reason": "power"}), 201)


def request(client: TestClient, world: World, side: str, **quota: int) -> str:
    """proj-<side>'s PI asks for cloudb:reserved; the allocation's id."""
    made = ok(client.post(f"{API}/allocations", headers=world[f"pi_{side}"].headers, json={
        "project": f"org-{side}:proj-{side}", "offering": OFFERING, "plan": "reserved",
        "quota": quota}), 201)
    return str(made["id"])


def activate(client: TestClient, world: World, runtime: Runtime, side: str,
             **quota: int) -> str:
    """Requested, approved by org-b's admin, provisioned by the worker: active."""
    allocation = request(client, world, side, **quota)
    ok(client.post(f"{API}/allocations/{allocation}/approve", json={},
                   headers=world["admin_b"].headers))
    run_due_operations(runtime)
    assert ok(client.get(f"{API}/allocations/{allocation}",
                         headers=world["admin_b"].headers))["state"] == "active"
    return allocation


def change_quota(client: TestClient, world: World, runtime: Runtime, allocation: str,
                 **quota: int) -> None:
    """The PI asks for a new quota, org-b's admin approves, the worker applies it."""
    change = ok(client.post(f"{API}/allocations/{allocation}/changes", json={"quota": quota},
                            headers=world["pi_a"].headers), 201)
    ok(client.post(f"{API}/allocations/{allocation}/changes/{change['id']}/approve", json={},
                   headers=world["admin_b"].headers))
    run_due_operations(runtime)


def backdate(runtime: Runtime, allocation: str, history: list[tuple[str, datetime]]) -> None:
    """Move the allocation's recorded history (its request and state moves, which must be
    ``history``'s actions, each action's events in order) to ``history``'s times; an
    approved change moves with the ``allocation.changing`` event that applied it."""
    with runtime.sessions.begin() as session:
        events = list(session.scalars(select(AuditEvent).where(
            AuditEvent.target_id == allocation,
            AuditEvent.action.in_([*STATE_ACTIONS, "allocation.request"]))
            .order_by(AuditEvent.created_at)))
        # events of one transaction may share an instant: match them by action, in order
        assert sorted(e.action for e in events) == sorted(action for action, _ in history)
        for action, when in history:
            event = next(e for e in events if e.action == action)
            events.remove(event)
            event.created_at = when
            if "change" in event.changes:
                change = session.get(AllocationChange, uuid.UUID(event.changes["change"]))
                assert change is not None
                change.decided_at = when
        found = session.get(Allocation, uuid.UUID(allocation))
        assert found is not None
        found.starts_at = history[0][1]


@pytest.fixture
def histories(client: TestClient, world: World, runtime: Runtime, reserved: None
              ) -> dict[str, str]:
    """org-a: a denied request (never charged); A1 active Oct 10 12:00 with 8 cores, 16
    cores from Oct 20 06:00, into November. org-b: A2 active Sep 20 12:00 with 4 cores,
    released Oct 5 09:30."""
    denied = request(client, world, "a", cores=2)
    ok(client.post(f"{API}/allocations/{denied}/deny", json={"reason": "no"},
                   headers=world["admin_b"].headers))
    backdate(runtime, denied, [("allocation.request", at(2)), ("allocation.denied", at(3))])
    a1 = activate(client, world, runtime, "a", cores=8)
    change_quota(client, world, runtime, a1, cores=16)
    backdate(runtime, a1, list(zip([*REQUESTED, "allocation.changing", "allocation.active"], [
        at(9, 10), at(10, 8), at(10, 8), at(10, 12), at(20, 6),
        at(20, 6) + timedelta(minutes=5)], strict=True)))
    a2 = activate(client, world, runtime, "b", cores=4)
    ok(client.post(f"{API}/allocations/{a2}/release", headers=world["pi_b"].headers), 202)
    run_due_operations(runtime)
    backdate(runtime, a2, list(zip([*REQUESTED, "allocation.releasing", "allocation.released"], [
        at(19, 9, month=9), at(20, 8, month=9), at(20, 8, month=9), at(20, 12, month=9),
        at(5, 9) + timedelta(minutes=30), at(5, 9) + timedelta(minutes=31)], strict=True)))
    return {"a1": a1, "a2": a2}


def generate(client: TestClient, world: World, period: str) -> dict[str, dict[str, Any]]:
    """Generate every organization's ``period``: each invoice in full, by organization."""
    made = ok(client.post(f"{API}/invoices", headers=world["operator"].headers,
                          json={"period": period}))
    full = [ok(client.get(f"{API}/invoices/{i['id']}", headers=world["operator"].headers))
            for i in made]
    names = {world.org_ids["a"]: "org-a", world.org_ids["b"]: "org-b"}
    return {names[i["organization_id"]]: i for i in full}


def priced(invoice: dict[str, Any]) -> dict[tuple[str, str], tuple[str, str]]:
    return {(line["meter"], line["unit_price"]): (line["quantity"], line["amount"])
            for line in invoice["lines"]}


def test_quota_fees_and_setup_to_the_cent(client: TestClient, world: World,
                                          histories: dict[str, str]) -> None:
    october = generate(client, world, "2026-10")
    assert set(october) == {"org-a", "org-b"}  # no usage at all: invoiced all the same
    a, b = october["org-a"], october["org-b"]
    assert priced(a) == OCTOBER_A
    assert priced(b) == OCTOBER_B
    assert {line["resource_id"] for line in a["lines"]} == {histories["a1"]}
    assert all(line["resource_kind"] == "allocation" and line["span_ids"] == []
               and line["rate_id"] for line in a["lines"] + b["lines"])
    assert {line["unit"] for line in a["lines"]} == {"core-hour", "month", "each"}
    for invoice, total in ((a, "238.79"), (b, "20.35")):
        assert sum(Decimal(line["amount"]) for line in invoice["lines"]) == Decimal(total)
        assert (invoice["subtotal"], invoice["total"], invoice["currency"]) == (
            total, total, "USD")
    assert priced(generate(client, world, "2026-09")["org-b"]) == SEPTEMBER_B


def test_one_time_is_charged_once(client: TestClient, world: World,
                                  histories: dict[str, str]) -> None:
    first = generate(client, world, "2026-10")["org-a"]
    again = generate(client, world, "2026-10")["org-a"]  # the draft is rated again
    assert again["id"] == first["id"] and priced(again) == priced(first) == OCTOBER_A
    november = generate(client, world, "2026-11")  # A1 still active: quota and fee, once
    assert {line["meter"] for line in november["org-a"]["lines"]} == {
        "limit.cores", "fixed.instances"}
    assert "org-b" not in november  # released in October: nothing in November


def test_credits_pages_exports_and_showback(client: TestClient, world: World, tmp_path: Path,
                                            histories: dict[str, str]) -> None:
    op = world["operator"].headers
    ok(client.post(f"{API}/credits", headers=op, json={
        "organization": "org-a", "name": "no-setup", "amount": "1000",
        "excluded_components": ["instances"], "valid_from": "2026-01-01T00:00:00Z"}), 201)
    invoice = generate(client, world, "2026-10")["org-a"]
    # the credit pays the quota lines only (10.56 + 98.88), not the monthly and setup fees
    assert (invoice["subtotal"], invoice["credits_total"], invoice["total"]) == (
        "238.79", "109.44", "129.35")
    page = ok(client.get(f"{API}/invoices/{invoice['id']}/projects/org-a:proj-a",
                         headers=world["pi_a"].headers))
    rows = {(r["meter"], r["unit"]): (r["quantity"], r["amount"])
            for r in page["sections"]["allocations"]}
    assert rows == {("limit.cores", "core-hour"): ("6000.000000", "109.44"),
                    ("fixed.instances", "month"): ("0.677419", "79.35"),
                    ("one_time.instances", "each"): ("1.000000", "50.00")}
    assert (page["subtotal"], page["total"]) == ("238.79", "129.35")
    url = f"{API}/invoices/{invoice['id']}/export"
    plain = list(csv.DictReader(io.StringIO(
        client.get(url, params={"format": "csv"}, headers=op).text)))
    assert sum(Decimal(r["amount"]) for r in plain) == Decimal("238.79")
    focus = list(csv.DictReader(io.StringIO(
        client.get(url, params={"format": "focus"}, headers=op).text)))
    assert {(r["ChargeCategory"], r["PricingUnit"]) for r in focus} == {
        ("Purchase", "core-hour"), ("Purchase", "month"), ("Purchase", "each")}
    pdf = client.get(url, params={"format": "pdf"}, headers=op)
    assert pdf.status_code == 200, pdf.text
    (tmp_path / "invoice.pdf").write_bytes(pdf.content)
    [text] = _pages(tmp_path / "invoice.pdf")
    assert "Quota charges and fees" in text and "limit.cores" in text
    assert "Total: 129.35 USD" in text
    shown = ok(client.get(f"{API}/reports/showback", headers=op,
                          params={"period": "2026-10", "by": "project"}))
    assert {(r["name"], r["amount"]) for r in shown} == {("proj-a", "238.79"),
                                                         ("proj-b", "20.35")}


# --- properties of the rating itself ---------------------------------------------------

def test_billed_only_while_usable_and_before_the_end() -> None:
    s = AllocationState
    moves = [(at(1), s.APPROVED), (at(1), s.PROVISIONING), (at(2), s.ACTIVE),
             (at(5), s.DISABLED), (at(7), s.ACTIVE), (at(9), s.CHANGING), (at(10), s.ACTIVE),
             (at(12), s.EXPIRED), (at(14), s.CHANGING), (at(15), s.ACTIVE)]
    allocation = Allocation(state=s.ACTIVE, starts_at=at(1), ends_at=at(20), quota={})
    assert billed_windows(moves, allocation, now=at(25)) == (
        Window(at(2), at(5)), Window(at(7), at(12)), Window(at(14), at(20)))
    # a month in progress is billed up to now; no recorded moves: from its start if usable
    assert billed_windows(moves[:3], allocation, now=at(3)) == (Window(at(2), at(3)),)
    assert billed_windows([], allocation, now=at(3)) == (Window(at(1), at(3)),)
    allocation.state = s.RELEASED
    assert billed_windows([], allocation, now=at(3)) == ()



OCTOBER = Window(*month_bounds("2026-10"))
T0 = OCTOBER.start
SPLIT = T0 + timedelta(days=15, hours=7)  # a rate change at an odd instant
FEES = (Fee("l1", "cores", RateKind.LIMIT, "core-hour", Decimal("0.013"), T0 - timedelta(days=90),
            SPLIT),
        Fee("l2", "cores", RateKind.LIMIT, "core-hour", Decimal("0.017"), SPLIT),
        Fee("f1", "instances", RateKind.FIXED, "month", Decimal("99.99"), T0 - timedelta(days=90),
            SPLIT),
        Fee("f2", "instances", RateKind.FIXED, "month", Decimal("123.45"), SPLIT),
        Fee("o1", "instances", RateKind.ONE_TIME, "each", Decimal("25"), T0 - timedelta(days=90)))
MINUTES = 31 * 24 * 60
minute = st.integers(min_value=-3 * 24 * 60, max_value=MINUTES + 3 * 24 * 60)


def _windows(bounds: list[int]) -> tuple[Window, ...]:
    cuts = sorted(set(bounds))
    return tuple(Window(T0 + timedelta(minutes=a), T0 + timedelta(minutes=b))
                 for a, b in zip(cuts[::2], cuts[1::2], strict=False))


def _brute_force(commitment: Commitment, outages: tuple[Window, ...]
                 ) -> tuple[Fraction, set[int]]:
    """Core-hours held and days touched in October, minute by minute."""
    core_minutes, days = 0, set()
    for m in range(MINUTES):
        t = T0 + timedelta(minutes=m)
        if not any(w.start <= t < w.end for w in commitment.billed) or any(
                o.start <= t < o.end for o in outages):
            continue
        quota = [q for since, q in commitment.quotas if since <= t] or [commitment.quotas[0][1]]
        core_minutes += quota[-1]["cores"]
        days.add(m // (24 * 60))
    return Fraction(core_minutes, 60), days


@settings(max_examples=60, deadline=None)
@given(billed=st.lists(minute, min_size=0, max_size=8),
       steps=st.lists(st.tuples(minute, st.integers(0, 64)), max_size=4),
       first_cores=st.integers(0, 64), outage=st.lists(minute, max_size=4))
def test_committed_lines_add_up(billed: list[int], steps: list[tuple[int, int]],
                                first_cores: int, outage: list[int]) -> None:
    quotas = [(T0 - timedelta(days=10), {"cores": first_cores, "instances": 2})]
    quotas += [(T0 + timedelta(minutes=m), {"cores": c, "instances": 2}) for m, c in sorted(steps)]
    commitment = Commitment("a", "p", "o", "pr", _windows(billed), tuple(quotas))
    outages = _windows(outage)
    lines = rate_commitment(commitment, FEES, OCTOBER, outages)
    by_kind: dict[str, list[RatedLine]] = {}
    for line in lines:
        by_kind.setdefault(line.key.meter.split(".")[0], []).append(line)
    core_hours, days = _brute_force(commitment, outages)
    # quota x time does not depend on where the rate changed; days are counted once
    assert sum((line.quantity for line in by_kind.get("limit", [])), Fraction(0)) == core_hours
    assert sum((line.quantity for line in by_kind.get("fixed", [])), Fraction(0)) == Fraction(
        len(days), 31)
    setup = bool(commitment.billed) and OCTOBER.start <= commitment.billed[0].start < OCTOBER.end
    assert len(by_kind.get("one_time", [])) == int(setup)
    # merged with usage lines, in any order: nothing lost or doubled, one fixed order, and
    # each line rounded once, so the invoice's lines sum to its total
    usage = [RatedLine(LineKey("p", None, "pr", "o", "server", "vm", "compute.server", "cpu_su",
                               "SU-hour", "u1", Decimal("0.013")), core_hours, {"s1"})]
    committed = [("USD", line) for line in lines]
    currency, merged = merge("USD", usage, committed)
    assert (currency, merged) == merge("USD", usage, committed[::-1])
    assert sorted(map(id, merged)) == sorted(map(id, usage + lines))
    total = sum((to_cents(line.quantity * Fraction(line.key.unit_price))
                 for line in usage + lines), Decimal(0))
    assert sum((line.amount for line in merged), Decimal(0)) == total
