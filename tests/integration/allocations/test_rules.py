"""Allocation and marketplace rules: bad input, who may use what, automatic approval."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from ocx.runtime import Runtime
from tests.integration.allocations.conftest import API, COMPONENTS
from tests.support.operations import run_due_operations
from tests.support.world import World


def _ask(client: TestClient, who: dict[str, str], **body: Any) -> Any:
    return client.post(f"{API}/allocations", headers=who, json={
        "project": "org-a:proj-a", "offering": "cloudb:compute", **body})


@pytest.mark.parametrize(("quota", "message"), [
    ({"gpus": 1}, "compute has no component gpus"),
    ({"cores": 65}, "cores 65 exceeds the offering's max of 64"),
])
def test_bad_quota_is_a_422(client: TestClient, world: World, market: dict[str, Any],
                            quota: dict[str, int], message: str) -> None:
    response = _ask(client, world["pi_a"].headers, quota=quota)
    assert response.status_code == 422
    assert message in response.json()["error"]["message"]


def test_negative_quota_and_unknown_fields_are_422(client: TestClient, world: World,
                                                   market: dict[str, Any]) -> None:
    assert _ask(client, world["pi_a"].headers, quota={"cores": -1}).status_code == 422
    assert _ask(client, world["pi_a"].headers, colour="red").status_code == 422


def test_members_may_not_request_and_duplicates_conflict(
        client: TestClient, world: World, market: dict[str, Any]) -> None:
    refused = _ask(client, world["member_a"].headers)
    assert refused.status_code == 403
    assert _ask(client, world["pi_a"].headers).status_code == 201
    again = _ask(client, world["manager_a"].headers)
    assert again.status_code == 409
    assert "already has allocation" in again.json()["error"]["message"]


def test_restricted_offering_refuses_other_organizations(
        client: TestClient, world: World, market: dict[str, Any]) -> None:
    admin_b = world["admin_b"].headers
    restricted = client.patch(f"{API}/offerings/cloudb:compute", headers=admin_b,
                              json={"allowed_organizations": ["org-b"]})
    assert restricted.status_code == 200
    response = _ask(client, world["pi_a"].headers)
    assert response.status_code in (403, 404)
    listed = client.get(f"{API}/offerings", headers=world["pi_a"].headers).json()["items"]
    assert listed == []  # and org-a no longer sees it in the marketplace
    client.patch(f"{API}/offerings/cloudb:compute", headers=admin_b,
                 json={"allowed_organizations": ["org-a", "org-b"]})
    assert _ask(client, world["pi_a"].headers).status_code == 201


def test_offering_settings_are_validated_sealed_and_masked(
        client: TestClient, world: World, market: dict[str, Any]) -> None:
    admin_b = world["admin_b"].headers
    bad = client.post(f"{API}/offerings", headers=admin_b, json={
        "provider": "cloudb", "name": "bad", "kind": "openstack", "driver": "fake",
        "driver_settings": {"clowd": "typo"}, "components": COMPONENTS})
    assert bad.status_code == 422
    assert "clowd" in bad.json()["error"]["message"]
    unknown = client.post(f"{API}/offerings", headers=admin_b, json={
        "provider": "cloudb", "name": "bad", "kind": "openstack", "driver": "nope",
        "components": COMPONENTS})
    assert unknown.status_code == 422
    assert "installed: fake" in unknown.json()["error"]["message"]
    seen_by_buyer = client.get(f"{API}/offerings/cloudb:compute",
                               headers=world["pi_a"].headers).json()
    assert seen_by_buyer["driver_settings"] is None
    seen_by_seller = client.get(f"{API}/offerings/cloudb:compute", headers=admin_b).json()
    assert seen_by_seller["driver_settings"]["cloud"].startswith("test-")


def test_overlapping_rates_conflict(client: TestClient, world: World,
                                    market: dict[str, Any]) -> None:
    response = client.post(f"{API}/offerings/cloudb:compute/plans",
                           headers=world["admin_b"].headers, json={
                               "name": "twice", "rates": [
                                   {"component": "cores", "kind": "usage", "unit": "core-hour",
                                    "unit_price": "0.01", "valid_from": "2026-01-01T00:00:00Z"},
                                   {"component": "cores", "kind": "usage", "unit": "core-hour",
                                    "unit_price": "0.02", "valid_from": "2026-06-01T00:00:00Z"}]})
    assert response.status_code == 409
    assert "already in force" in response.json()["error"]["message"]
    plans = client.get(f"{API}/offerings/cloudb:compute/plans",
                       headers=world["pi_a"].headers).json()
    assert [p["name"] for p in plans] == ["standard"]
    assert plans[0]["rates"][0]["unit_price"] == "0.012000"


def test_auto_approve_provisions_without_a_human(client: TestClient, world: World,
                                                 runtime: Runtime,
                                                 market: dict[str, Any]) -> None:
    client.patch(f"{API}/offerings/cloudb:compute", headers=world["admin_b"].headers,
                 json={"auto_approve": True})
    allocation = _ask(client, world["pi_a"].headers).json()
    assert allocation["state"] == "provisioning" and allocation["operation_id"]
    run_due_operations(runtime)
    shown = client.get(f"{API}/allocations/{allocation['id']}", headers=world["pi_a"].headers)
    assert shown.json()["state"] == "active"
    assert shown.json()["status_message"] == "active"
