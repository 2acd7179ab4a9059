"""The price book: forward-only dated rates, rating rules, outages; every change audited."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ocx.domain.allocations.models import Allocation
from ocx.domain.allocations.states import AllocationState
from ocx.domain.metering.models import UsageSpan
from ocx.runtime import Runtime
from tests.integration.billing.support import API, OFFERING, RULES, at, ok, server
from tests.support.world import World

pytestmark = pytest.mark.billing
RATES = f"{API}/price-book/{OFFERING}/plans/standard/rates"
RULES_URL = f"{API}/price-book/{OFFERING}/plans/standard/rules"


def test_a_new_price_ends_the_one_in_force(client: TestClient, world: World,
                                           market: dict[str, Any]) -> None:
    book = ok(client.get(f"{API}/price-book/{OFFERING}", headers=world["member_a"].headers))
    cpu = [r for r in book["plans"][0]["rates"] if r["component"] == "cpu_su"]
    assert [(r["unit_price"], r["valid_from"][:10], (r["valid_until"] or "-")[:10])
            for r in cpu] == [("0.013000", "2026-01-01", "2026-10-16"),
                              ("0.015000", "2026-10-16", "-")]
    assert all(r["unit"] == "SU-hour" for r in cpu)


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"component": "cpu_su", "unit_price": "1", "valid_from": "2026-10-01T00:00:00Z"}, 409,
     "forward in time"),
    ({"component": "dns_zones", "unit_price": "1", "valid_from": "2027-01-01T00:00:00Z"}, 422,
     "prices none called dns_zones"),
    ({"component": "cores", "unit_price": "1", "valid_from": "2027-01-01T00:00:00Z"}, 422,
     "say what one unit"),
    ({"component": "cpu_su", "unit_price": "-1", "valid_from": "2027-01-01T00:00:00Z"}, 422,
     ""),
    ({"component": "cpu_su", "unit_price": "1", "valid_from": "2027-01-01T00:00:00"}, 422, ""),
])
def test_bad_rate_changes_are_refused(client: TestClient, world: World, market: dict[str, Any],
                                      body: dict[str, Any], status: int, words: str) -> None:
    refused = client.post(RATES, json=body, headers=world["operator"].headers)
    assert refused.status_code == status, refused.text
    assert words in refused.json()["error"]["message"]


@pytest.mark.parametrize("rules", [
    {"service_units": [{"component": "gpu_su", "gpu_type": "a100"}]},  # no gpus per SU
    {"billed_states": ["active", "hibernating"]},
    {"service_units": [{"component": "a_su"}, {"component": "b_su"}]},  # two CPU units
    {"meters": [{"meter": "Volume Storage", "component": "storage_gib"}]},
])
def test_bad_rules_are_refused(client: TestClient, world: World, market: dict[str, Any],
                               rules: dict[str, Any]) -> None:
    refused = client.put(RULES_URL, json=rules, headers=world["operator"].headers)
    assert refused.status_code == 422, refused.text


def test_providers_price_their_own_offerings_only(client: TestClient, world: World,
                                                  market: dict[str, Any]) -> None:
    body = {"component": "cpu_su", "unit_price": "0.02", "valid_from": "2027-01-01T00:00:00Z"}
    assert client.post(RATES, json=body, headers=world["admin_a"].headers).status_code == 403
    assert client.post(RATES, json=body, headers=world["pi_b"].headers).status_code == 403
    ok(client.post(RATES, json=body, headers=world["admin_b"].headers), 201)


def test_every_change_is_audited(client: TestClient, world: World,
                                 market: dict[str, Any]) -> None:
    op = world["operator"].headers
    outage = ok(client.post(f"{API}/price-book/outages", headers=world["admin_b"].headers,
                            json={"offering": OFFERING, "starts_at": "2027-01-01T00:00:00Z",
                                  "ends_at": "2027-01-01T06:00:00Z", "reason": "upgrade"}),
                201)
    assert client.delete(f"{API}/price-book/outages/{outage['id']}",
                         headers=op).status_code == 204
    events = ok(client.get(f"{API}/audit?limit=500", headers=op))["items"]
    actions = [e["action"] for e in events if e["action"].startswith("price_book.")]
    assert actions.count("price_book.set_rate") == 5
    assert actions.count("price_book.set_rules") == 1
    assert {"price_book.add_outage", "price_book.delete_outage"} <= set(actions)
    rules = next(e for e in events if e["action"] == "price_book.set_rules")
    assert rules["changes"]["to"]["service_units"][1]["gpu_type"] == "a100"
    assert RULES["service_units"][1]["component"] == "gpu_a100_su"


def test_billed_states_are_a_price_book_rule(client: TestClient, world: World,
                                             october: dict[str, Any]) -> None:
    op = world["operator"].headers
    ok(client.put(RULES_URL, headers=op, json=RULES | {"billed_states": ["active", "shelved"]}))
    made = ok(client.post(f"{API}/invoices", headers=op,
                          json={"period": "2026-10", "organization": "org-a"}))
    lines = ok(client.get(f"{API}/invoices/{made[0]['id']}", headers=op))["lines"]
    s3 = [line for line in lines if line["resource_id"] == "s3"]
    # 24 h active + 696 h shelved (Oct 2 to 31) - 24 h outage = 696 SU-hours at 0.013 and
    # 0.015 (the change on Oct 16): 15 days x 24 = 360 before, 336 after
    assert {(line["quantity"], line["amount"]) for line in s3} == {
        ("360.000000", "4.68"), ("336.000000", "5.04")}
    s1 = [line for line in lines if line["resource_id"] == "s1"]
    # stopped is no longer billed: 240 h then 360 h (outage out), 4 SU each
    assert {line["quantity"] for line in s1} == {"960.000000", "1440.000000"}


def test_a_span_is_priced_by_its_allocations_plan(client: TestClient, world: World,
                                                  runtime: Runtime,
                                                  market: dict[str, Any]) -> None:
    op = world["operator"].headers
    premium = ok(client.post(f"{API}/offerings/{OFFERING}/plans", headers=op, json={
        "name": "premium", "currency": "USD"}), 201)
    ok(client.post(f"{API}/price-book/{OFFERING}/plans/premium/rates", headers=op, json={
        "component": "cpu_su", "unit_price": "0.10", "valid_from": "2026-01-01T00:00:00Z"}),
        201)
    project = world.project_ids["a"]
    with runtime.sessions.begin() as session:
        allocation = Allocation(
            project_id=uuid.UUID(project), offering_id=uuid.UUID(market["offering_id"]),
            plan_id=uuid.UUID(premium["id"]), state=AllocationState.ACTIVE, quota={},
            starts_at=at(1))
        session.add(allocation)
        session.flush()
        allocation_id = allocation.id
    span_id = server(runtime, market, project, "vm", at(1), at(2), vcpus=2, ram_mib=4096)
    body = {"period": "2026-10", "organization": "org-a"}
    # two plans and no allocation: nothing says which one prices the span
    refused = client.post(f"{API}/invoices", headers=op, json=body)
    assert refused.status_code == 409 and "no plan prices" in refused.json()["error"]["message"]
    with runtime.sessions.begin() as session:
        span = session.get(UsageSpan, span_id)
        assert span is not None
        span.stream.allocation_id = allocation_id  # the span's stream, as if so ingested
    made = ok(client.post(f"{API}/invoices", headers=op, json=body))
    assert made[0]["total"] == "4.80"  # 2 SU x 24 h x 0.10
