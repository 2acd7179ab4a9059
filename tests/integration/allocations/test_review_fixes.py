"""Races and failure paths found in review, each pinned by a test."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ocx.domain.allocations import reconciler
from ocx.domain.allocations.models import Allocation
from ocx.domain.operations.models import Operation
from ocx.drivers.project.fake import FakeProject
from ocx.runtime import Runtime
from tests.integration.allocations.conftest import API, COMPONENTS
from tests.integration.allocations.test_flow import _active, _request
from tests.support.operations import run_due_operations
from tests.support.world import World


def test_a_permanent_failure_leaves_no_allocation_stuck(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        cloud: FakeProject) -> None:
    allocation = _active(client, world, runtime, cores=8)
    cloud.delete_project(allocation["external_id"])  # gone behind OCX's back
    change = client.post(f"{API}/allocations/{allocation['id']}/changes",
                         json={"quota": {"cores": 16}}, headers=world["pi_a"].headers).json()
    client.post(f"{API}/allocations/{allocation['id']}/changes/{change['id']}/approve",
                json={}, headers=world["admin_b"].headers)
    run_due_operations(runtime)
    shown = client.get(f"{API}/allocations/{allocation['id']}", headers=world["pi_a"].headers)
    assert shown.json()["state"] == "active"
    assert shown.json()["status_message"].startswith("the change was not applied:")


def test_exhausted_attempts_fail_a_provisioning_allocation_and_retry_revives_it(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any]) -> None:
    admin_b = world["admin_b"].headers
    client.patch(f"{API}/offerings/cloudb:compute", headers=admin_b,
                 json={"driver_settings": {"down": True}})
    allocation = _request(client, world)
    op_id = client.post(f"{API}/allocations/{allocation['id']}/approve", json={},
                        headers=admin_b).json()["operation_id"]
    with runtime.sessions.begin() as session:
        op = session.get(Operation, uuid.UUID(op_id))
        assert op is not None
        op.max_attempts = 1
    run_due_operations(runtime)
    shown = client.get(f"{API}/allocations/{allocation['id']}", headers=admin_b).json()
    assert shown["state"] == "failed"
    # Live allocations: only an operator may repoint the offering.
    back = client.patch(f"{API}/offerings/cloudb:compute", headers=world["operator"].headers,
                        json={"driver_settings": {"down": False}})
    assert back.status_code == 200, back.text
    retried = client.post(f"{API}/operations/{op_id}/retry", headers=world["operator"].headers)
    assert retried.status_code == 202
    run_due_operations(runtime)
    shown = client.get(f"{API}/allocations/{allocation['id']}", headers=admin_b).json()
    assert shown["state"] == "active"


def test_release_wins_over_an_apply_that_was_still_running(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        cloud: FakeProject) -> None:
    allocation = _request(client, world)
    client.post(f"{API}/allocations/{allocation['id']}/approve", json={},
                headers=world["admin_b"].headers)
    released = client.post(f"{API}/allocations/{allocation['id']}/release",
                           headers=world["pi_a"].headers)
    assert released.json()["state"] == "releasing"
    run_due_operations(runtime)  # the stale apply skips; the release finds nothing to keep
    shown = client.get(f"{API}/allocations/{allocation['id']}", headers=world["pi_a"].headers)
    assert shown.json()["state"] == "released"
    with cloud._cloud() as state:
        assert state["projects"] == {}


def test_quota_change_needs_renewal_first_once_expired_and_empty_changes_are_refused(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any]) -> None:
    allocation = _active(client, world, runtime)
    url = f"{API}/allocations/{allocation['id']}/changes"
    pi = world["pi_a"].headers
    assert client.post(url, json={"quota": {}}, headers=pi).status_code == 422
    with runtime.sessions.begin() as session:
        row = session.get(Allocation, uuid.UUID(allocation["id"]))
        assert row is not None
        row.state = row.state.EXPIRED
    refused = client.post(url, json={"quota": {"cores": 5}}, headers=pi)
    assert refused.status_code == 409 and "renew it" in refused.json()["error"]["message"]


def test_reconcile_uses_fresh_wishes_and_records_usage(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        cloud: FakeProject) -> None:
    allocation = _active(client, world, runtime, cores=16)
    cloud.tamper(allocation["external_id"], usage={"cores": 12})
    with runtime.sessions.begin() as session:
        assert reconciler.schedule_reconcile(session) == 1
    run_due_operations(runtime)
    refused = client.post(f"{API}/allocations/{allocation['id']}/changes",
                          json={"quota": {"cores": 8}}, headers=world["pi_a"].headers)
    assert refused.status_code == 409  # the reconcile recorded the usage it saw


def test_offerings_name_only_components_their_driver_knows(
        client: TestClient, world: World, market: dict[str, Any]) -> None:
    response = client.post(f"{API}/offerings", headers=world["admin_b"].headers, json={
        "provider": "cloudb", "name": "gpu", "kind": "openstack", "driver": "fake",
        "components": [*COMPONENTS, {"name": "gpus", "unit": "gpu"}]})
    assert response.status_code == 422
    assert "the fake driver does not know gpus" in response.json()["error"]["message"]


def test_a_settings_field_cannot_smuggle_a_sealed_value(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any]) -> None:
    token = runtime.sealer.seal("someone's password")
    response = client.patch(f"{API}/offerings/cloudb:compute", headers=world["admin_b"].headers,
                            json={"driver_settings": {"cloud": token}})
    assert response.status_code == 422
    assert "must not start with" in response.json()["error"]["message"]


def test_one_live_allocation_per_project_and_offering_is_a_database_rule(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any]) -> None:
    first = _request(client, world)
    with runtime.sessions() as session:
        row = session.scalar(select(Allocation))
        assert row is not None and str(row.id) == first["id"]
    with pytest.raises(IntegrityError), runtime.sessions.begin() as session:
        session.add(Allocation(project_id=row.project_id, offering_id=row.offering_id,
                               state=row.state, quota={}, starts_at=row.starts_at))
