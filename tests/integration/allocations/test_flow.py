"""An allocation's whole life against the fake provider, through the API and workers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from ocx.domain.allocations import reconciler
from ocx.domain.allocations.models import Allocation
from ocx.domain.audit.models import AuditEvent
from ocx.domain.identity.lifecycle import expire_memberships
from ocx.domain.identity.models import Membership
from ocx.domain.operations.models import Operation
from ocx.drivers.project.fake import FakeProject
from ocx.runtime import Runtime
from tests.integration.allocations.conftest import API
from tests.support.operations import run_due_operations
from tests.support.world import World


def _request(client: TestClient, world: World, **quota: int) -> dict[str, Any]:
    response = client.post(f"{API}/allocations", headers=world["pi_a"].headers, json={
        "project": "org-a:proj-a", "offering": "cloudb:compute", "quota": quota})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _active(client: TestClient, world: World, runtime: Runtime, **quota: int) -> dict[str, Any]:
    allocation = _request(client, world, **quota)
    approved = client.post(f"{API}/allocations/{allocation['id']}/approve", json={},
                           headers=world["admin_b"].headers)
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "provisioning"
    assert approved.json()["operation_id"]
    run_due_operations(runtime)
    shown = client.get(f"{API}/allocations/{allocation['id']}", headers=world["pi_a"].headers)
    assert shown.json()["state"] == "active", shown.text
    return shown.json()  # type: ignore[no-any-return]


def _user_ids(client: TestClient, world: World) -> set[str]:
    people = client.get(f"{API}/projects/org-a:proj-a/members",
                        headers=world["pi_a"].headers).json()["items"]
    return {p["user_id"] for p in people}


def test_request_fills_defaults_and_waits_for_the_provider(
        client: TestClient, world: World, market: dict[str, Any]) -> None:
    allocation = _request(client, world, cores=8)
    assert allocation["state"] == "requested"
    assert allocation["quota"] == {"cores": 8, "ram_mib": 8192, "instances": 2}
    assert allocation["offering"] == "cloudb:compute"
    mine = client.get(f"{API}/allocations", headers=world["admin_b"].headers).json()["items"]
    assert [a["id"] for a in mine] == [allocation["id"]]  # the provider sees the request
    denied = client.post(f"{API}/allocations/{allocation['id']}/deny",
                         json={"reason": "no capacity"}, headers=world["admin_b"].headers)
    assert denied.json()["state"] == "denied"
    assert denied.json()["status_message"] == "no capacity"


def test_approval_provisions_the_tenant_with_quota_and_members(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        cloud: FakeProject) -> None:
    allocation = _active(client, world, runtime, cores=8)
    state = cloud.describe(allocation["external_id"])
    assert state.enabled
    assert dict(state.quota)["cores"] == 8 and dict(state.quota)["instances"] == 2
    assert state.users == _user_ids(client, world)
    assert allocation["observed"]["quota"]["cores"] == 8


def test_credentials_are_shown_once_and_end_with_membership(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        cloud: FakeProject) -> None:
    allocation = _active(client, world, runtime)
    url = f"{API}/allocations/{allocation['id']}/credentials"
    member = world["member_a"].headers
    op = client.post(url, headers=member)
    assert op.status_code == 202, op.text
    run_due_operations(runtime)
    collected = client.post(f"{url}/{op.json()['id']}", headers=member)
    assert collected.status_code == 200, collected.text
    assert collected.headers["cache-control"] == "no-store"
    creds = collected.json()
    assert "secret = " in creds["files"]["fake-credentials.ini"]
    assert client.post(f"{url}/{op.json()['id']}", headers=member).status_code == 409
    stolen = client.post(f"{url}/{op.json()['id']}", headers=world["pi_a"].headers)
    assert stolen.status_code == 404  # only the requester collects
    op_view = client.get(f"{API}/operations/{op.json()['id']}", headers=member).text
    assert "secret" not in op_view.replace('"sealed"', "")
    assert cloud.credential_valid(allocation["external_id"], creds["credential_id"])
    removed = client.delete(f"{API}/projects/org-a:proj-a/members/member@a.example.org",
                            headers=world["pi_a"].headers)
    assert removed.status_code == 204
    run_due_operations(runtime)
    assert not cloud.credential_valid(allocation["external_id"], creds["credential_id"])
    assert len(cloud.describe(allocation["external_id"]).users) == 2


def test_quota_change_is_approved_and_applied(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        cloud: FakeProject) -> None:
    allocation = _active(client, world, runtime, cores=8)
    url = f"{API}/allocations/{allocation['id']}/changes"
    change = client.post(url, json={"quota": {"cores": 16}, "justification": "more runs"},
                         headers=world["manager_a"].headers)
    assert change.status_code == 201, change.text
    assert change.json()["state"] == "requested"
    approved = client.post(f"{url}/{change.json()['id']}/approve", json={},
                           headers=world["admin_b"].headers)
    assert approved.json()["state"] == "approved"
    shown = client.get(f"{API}/allocations/{allocation['id']}", headers=world["pi_a"].headers)
    assert shown.json()["state"] == "changing"
    run_due_operations(runtime)
    assert dict(cloud.describe(allocation["external_id"]).quota)["cores"] == 16
    shown = client.get(f"{API}/allocations/{allocation['id']}", headers=world["pi_a"].headers)
    assert (shown.json()["state"], shown.json()["quota"]["cores"]) == ("active", 16)


def test_quota_below_usage_is_refused_naming_the_usage(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        cloud: FakeProject) -> None:
    allocation = _active(client, world, runtime, cores=16)
    cloud.tamper(allocation["external_id"], usage={"cores": 12})
    client.post(f"{API}/projects/org-a:proj-a/members", headers=world["pi_a"].headers,
                json={"email": world["outsider"].email})  # any apply refreshes observations
    run_due_operations(runtime)
    refused = client.post(f"{API}/allocations/{allocation['id']}/changes",
                          json={"quota": {"cores": 8}}, headers=world["pi_a"].headers)
    assert refused.status_code == 409
    assert "cores: 12 in use" in refused.json()["error"]["message"]


def test_drift_is_reported_then_repaired_and_audited(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        cloud: FakeProject) -> None:
    allocation = _active(client, world, runtime, cores=8)
    cloud.tamper(allocation["external_id"], quota={"cores": 99}, enabled=False)
    op = client.post(f"{API}/allocations/{allocation['id']}/drift",
                     headers=world["pi_a"].headers)
    assert op.status_code == 202
    run_due_operations(runtime)
    result = client.get(f"{API}/operations/{op.json()['id']}",
                        headers=world["pi_a"].headers).json()["result"]
    assert result["in_line"] is False
    assert "quota cores: provider has 99, OCX wants 8" in result["differences"]
    assert dict(cloud.describe(allocation["external_id"]).quota)["cores"] == 99  # unchanged
    with runtime.sessions.begin() as session:
        assert reconciler.schedule_reconcile(session) == 1
    run_due_operations(runtime)
    state = cloud.describe(allocation["external_id"])
    assert (dict(state.quota)["cores"], state.enabled) == (8, True)
    with runtime.sessions() as session:
        found = session.scalar(select(AuditEvent).where(
            AuditEvent.action == "allocation.drift_found"))
    assert found is not None and found.target_id == allocation["id"]
    assert "quota cores: provider has 99, OCX wants 8" in found.changes["differences"]


def test_expiry_disables_and_release_cleans_up(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        cloud: FakeProject) -> None:
    allocation = _active(client, world, runtime)
    with runtime.sessions.begin() as session:
        session.execute(update(Allocation).values(
            ends_at=datetime.now(UTC) - timedelta(minutes=1)))
        assert reconciler.expire_allocations(session) == 1
    run_due_operations(runtime)
    assert cloud.describe(allocation["external_id"]).enabled is False
    shown = client.get(f"{API}/allocations/{allocation['id']}", headers=world["pi_a"].headers)
    assert shown.json()["state"] == "expired"
    released = client.post(f"{API}/allocations/{allocation['id']}/release",
                           headers=world["pi_a"].headers)
    assert released.status_code == 202 and released.json()["state"] == "releasing"
    run_due_operations(runtime)
    shown = client.get(f"{API}/allocations/{allocation['id']}", headers=world["pi_a"].headers)
    assert shown.json()["state"] == "released"
    with cloud._cloud() as state:
        assert allocation["external_id"] not in state["projects"]


def test_provider_down_fails_the_attempt_with_its_reason_and_retries_later(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        cloud: FakeProject) -> None:
    admin_b = world["admin_b"].headers
    down = client.patch(f"{API}/offerings/cloudb:compute", headers=admin_b,
                        json={"driver_settings": {"down": True}})
    assert down.status_code == 200, down.text
    allocation = _request(client, world)
    op_id = client.post(f"{API}/allocations/{allocation['id']}/approve", json={},
                        headers=admin_b).json()["operation_id"]
    run_due_operations(runtime)
    op = client.get(f"{API}/operations/{op_id}", headers=admin_b).json()
    assert op["state"] == "pending" and op["attempts"] == 1
    assert "unreachable" in op["last_error"]
    shown = client.get(f"{API}/allocations/{allocation['id']}", headers=admin_b).json()
    assert shown["state"] == "provisioning"
    assert shown["status_message"].startswith("provider error:")
    with cloud._cloud() as state:
        assert state["projects"] == {}  # nothing half-made
    # Live allocations: only an operator may repoint the offering.
    back = client.patch(f"{API}/offerings/cloudb:compute", headers=world["operator"].headers,
                        json={"driver_settings": {"down": False}})
    assert back.status_code == 200, back.text
    with runtime.sessions.begin() as session:
        session.execute(update(Operation).values(next_attempt_at=datetime.now(UTC)))
    run_due_operations(runtime)
    shown = client.get(f"{API}/allocations/{allocation['id']}", headers=admin_b).json()
    assert shown["state"] == "active"


def test_deactivated_or_expired_members_lose_provider_access(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        cloud: FakeProject) -> None:
    allocation = _active(client, world, runtime)
    before = cloud.describe(allocation["external_id"]).users
    member_id = next(p["user_id"] for p in client.get(
        f"{API}/projects/org-a:proj-a/members", headers=world["pi_a"].headers).json()["items"]
        if p["email"] == "member@a.example.org")
    assert member_id in before
    off = client.patch(f"{API}/users/member@a.example.org", json={"is_active": False},
                       headers=world["operator"].headers)
    assert off.status_code == 200
    run_due_operations(runtime)
    assert cloud.describe(allocation["external_id"]).users == before - {member_id}
    with runtime.sessions.begin() as session:
        session.execute(update(Membership).where(
            Membership.role == "manager",
            Membership.project_id == uuid.UUID(world.project_ids["a"])).values(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        assert expire_memberships(session) == 1
    run_due_operations(runtime)
    assert len(cloud.describe(allocation["external_id"]).users) == 1  # the PI remains
