"""Suspending allocations (disable / enable) and guarding live offerings' settings."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from ocx.domain.allocations.models import Allocation
from ocx.domain.audit.models import AuditEvent
from ocx.drivers.project.fake import FakeProject
from ocx.runtime import Runtime
from tests.integration.allocations.conftest import API
from tests.integration.allocations.test_flow import _active
from tests.support.operations import run_due_operations
from tests.support.world import World


def test_disable_suspends_the_tenant_and_enable_lifts_it_audited(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        cloud: FakeProject) -> None:
    allocation = _active(client, world, runtime)
    url, admin_b = f"{API}/allocations/{allocation['id']}", world["admin_b"].headers
    assert client.post(f"{url}/disable", json={}, headers=admin_b).status_code == 422
    assert client.post(f"{url}/enable", json={}, headers=admin_b).status_code == 409
    disabled = client.post(f"{url}/disable", json={"reason": "abuse report 42"},
                           headers=admin_b)
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["status_message"] == "disabled: abuse report 42"
    run_due_operations(runtime)
    state = cloud.describe(allocation["external_id"])
    assert state.enabled is False and len(state.users) == 3  # roles kept, sign-in refused
    assert client.post(f"{url}/credentials",
                       headers=world["member_a"].headers).status_code == 409
    again = client.post(f"{url}/disable", json={"reason": "twice"}, headers=admin_b)
    assert again.status_code == 409
    enabled = client.post(f"{url}/enable", json={"reason": "cleared"},
                          headers=world["operator"].headers)
    assert enabled.status_code == 200 and enabled.json()["state"] == "active"
    run_due_operations(runtime)
    assert cloud.describe(allocation["external_id"]).enabled
    with runtime.sessions() as session:
        events = [(e.action, e.changes.get("reason")) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.target_id == allocation["id"])
            .order_by(AuditEvent.created_at))]
    assert ("allocation.disabled", "abuse report 42") in events
    assert ("allocation.active", "cleared") in events


def test_a_renewal_keeps_a_suspended_allocation_suspended(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        cloud: FakeProject) -> None:
    allocation = _active(client, world, runtime)
    client.patch(f"{API}/offerings/cloudb:compute", json={"auto_approve": True},
                 headers=world["admin_b"].headers)
    url = f"{API}/allocations/{allocation['id']}"
    client.post(f"{url}/disable", json={"reason": "audit"}, headers=world["admin_b"].headers)
    later = (datetime.now(UTC) + timedelta(days=90)).isoformat()
    renewed = client.post(f"{url}/changes", json={"ends_at": later},
                          headers=world["pi_a"].headers)
    assert renewed.status_code == 201 and renewed.json()["state"] == "approved"
    run_due_operations(runtime)
    shown = client.get(url, headers=world["pi_a"].headers).json()
    assert shown["state"] == "disabled"
    assert cloud.describe(allocation["external_id"]).enabled is False


def test_enabling_an_allocation_past_its_end_needs_a_renewal_first(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any]) -> None:
    allocation = _active(client, world, runtime)
    url = f"{API}/allocations/{allocation['id']}"
    client.post(f"{url}/disable", json={"reason": "audit"}, headers=world["admin_b"].headers)
    with runtime.sessions.begin() as session:
        row = session.get(Allocation, uuid.UUID(allocation["id"]))
        assert row is not None
        row.ends_at = datetime.now(UTC) - timedelta(minutes=1)
    refused = client.post(f"{url}/enable", json={}, headers=world["admin_b"].headers)
    assert refused.status_code == 409 and "renew it" in refused.json()["error"]["message"]


def test_only_operators_repoint_an_offering_with_live_allocations(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any]) -> None:
    offering_url, admin_b = f"{API}/offerings/cloudb:compute", world["admin_b"].headers
    elsewhere = {"driver_settings": {"cloud": f"elsewhere-{uuid.uuid4().hex}"}}
    allocation = _active(client, world, runtime)
    refused = client.patch(offering_url, json=elsewhere, headers=admin_b)
    assert refused.status_code == 409
    message = refused.json()["error"]["message"]
    assert allocation["id"] in message and "ask an operator" in message
    shown = client.get(offering_url, headers=admin_b).json()
    assert shown["driver_settings"] == market["offering"]["driver_settings"]  # rolled back
    described = client.patch(offering_url, json={"description": "now with more cores"},
                             headers=admin_b)
    assert described.status_code == 200  # other fields stay the provider's to change
    same = client.patch(offering_url, json={"driver_settings": {}}, headers=admin_b)
    assert same.status_code == 200  # nothing changed: nothing to refuse
    moved = client.patch(offering_url, json=elsewhere, headers=world["operator"].headers)
    assert moved.status_code == 200, moved.text


def _renew(client: TestClient, url: str, pi: dict[str, str], days: int) -> dict[str, Any]:
    """Ask for the allocation to end ``days`` from now (a renewal); the change request."""
    ends = (datetime.now(UTC) + timedelta(days=days)).isoformat()
    response = client.post(url, json={"ends_at": ends}, headers=pi)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_automatic_renewals_are_bounded_then_the_provider_decides(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any]) -> None:
    allocation = _active(client, world, runtime)
    client.patch(f"{API}/offerings/cloudb:compute", json={"auto_approve": True},
                 headers=world["admin_b"].headers)
    url, pi = f"{API}/allocations/{allocation['id']}/changes", world["pi_a"].headers

    def renew(days: int) -> dict[str, Any]:
        return _renew(client, url, pi, days)

    too_far = renew(400)
    assert (too_far["state"], too_far["automatic"]) == ("requested", False)
    assert "up to 366 days after the allocation's start" in too_far["note"]
    for days in (30, 60):
        granted = renew(days)
        assert (granted["state"], granted["automatic"]) == ("approved", True)
        run_due_operations(runtime)
    third = renew(90)
    assert third["state"] == "requested"
    assert "at most 2 times and this one was renewed 2 times" in third["note"]
    decided = client.post(f"{url}/{third['id']}/approve", json={"reason": "fine by us"},
                          headers=world["admin_b"].headers).json()
    assert (decided["state"], decided["automatic"], decided["note"]) == (
        "approved", False, "fine by us")
    listed = client.get(url, headers=pi).json()
    assert [c["state"] for c in listed] == ["requested", "approved", "approved", "approved"]


def test_an_offering_sets_its_own_renewal_bounds(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any]) -> None:
    allocation = _active(client, world, runtime)
    admin_b = world["admin_b"].headers
    bounds = {"auto_approve": True, "auto_renewals": 1, "auto_term_days": 500}
    changed = client.patch(f"{API}/offerings/cloudb:compute", json=bounds, headers=admin_b)
    assert changed.status_code == 200, changed.text
    assert {key: changed.json()[key] for key in bounds} == bounds
    for bad in ({"auto_renewals": -1}, {"auto_term_days": 0}, {"auto_renewals": "many"}):
        refused = client.patch(f"{API}/offerings/cloudb:compute", json=bad, headers=admin_b)
        assert refused.status_code == 422, bad
    assert client.patch(f"{API}/offerings/cloudb:compute", json={"auto_renewals": 5},
                        headers=world["pi_a"].headers).status_code == 403
    url, pi = f"{API}/allocations/{allocation['id']}/changes", world["pi_a"].headers

    def renew(days: int) -> dict[str, Any]:
        return _renew(client, url, pi, days)

    first = renew(400)  # past the default 366 days, within this offering's 500
    assert (first["state"], first["automatic"]) == ("approved", True)
    run_due_operations(runtime)
    second = renew(450)
    assert second["state"] == "requested"
    assert "at most 1 times and this one was renewed 1 times" in second["note"]
