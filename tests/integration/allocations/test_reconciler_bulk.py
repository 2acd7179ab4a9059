"""The periodic reconcile against the fake provider: one bulk read per offering, and a
tenant deleted behind OCX's back found, audited and made again."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ocx.domain.allocations import reconciler
from ocx.domain.audit.models import AuditEvent
from ocx.domain.operations.models import Operation
from ocx.drivers.project.base import ProjectState
from ocx.drivers.project.fake import FakeProject
from ocx.errors import DriverError, PermanentDriverError
from ocx.runtime import Runtime
from tests.integration.allocations.conftest import API
from tests.integration.allocations.test_flow import _active, _user_ids
from tests.support.operations import run_due_operations
from tests.support.world import World


def run_reconcile(runtime: Runtime, now: datetime | None = None) -> Operation:
    """Schedule the periodic reconcile (for ``now``), run it and its repairs; the newest."""
    with runtime.sessions.begin() as session:
        assert reconciler.schedule_reconcile(session, now) == 1
    run_due_operations(runtime)
    with runtime.sessions() as session:
        newest = session.scalars(select(Operation).where(
            Operation.kind == reconciler.RECONCILE).order_by(Operation.created_at.desc()))
        return newest.first()  # type: ignore[return-value]


def _result(op: Operation) -> dict[str, Any]:
    assert op.state.value == "done", op.last_error
    return dict(op.result or {})


def test_a_tenant_deleted_behind_ocx_back_is_made_again_with_quota_and_members(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        cloud: FakeProject) -> None:
    allocation = _active(client, world, runtime, cores=8)
    gone = allocation["external_id"]
    cloud.delete_project(gone)  # the provider's operator, not OCX

    result = _result(run_reconcile(runtime))
    assert result == {"checked": 1, "drifted": 1, "missing": 1, "errors": 0}

    shown = client.get(f"{API}/allocations/{allocation['id']}",
                       headers=world["pi_a"].headers).json()
    assert shown["state"] == "active"
    assert shown["external_id"] not in (None, gone)
    state = cloud.describe(shown["external_id"])
    assert state.enabled and dict(state.quota)["cores"] == 8
    assert state.users == _user_ids(client, world)
    with runtime.sessions() as session:
        found = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "allocation.drift_found")).one()
    assert found.target_id == allocation["id"]
    assert found.changes["external_id"] == gone
    assert found.changes["differences"] == [
        f"project missing: the provider has no tenant {gone}"]


def test_the_reconcile_reads_an_offering_in_one_bulk_call_and_repairs_only_drift(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        cloud: FakeProject, monkeypatch: pytest.MonkeyPatch) -> None:
    allocation = _active(client, world, runtime, cores=8)
    calls: list[Sequence[str]] = []
    bulk = FakeProject.describe_many

    def counted(self: FakeProject, external_ids: Sequence[str]) -> dict[str, ProjectState]:
        calls.append(list(external_ids))
        return bulk(self, external_ids)

    monkeypatch.setattr(FakeProject, "describe_many", counted)
    result = _result(run_reconcile(runtime))
    assert result == {"checked": 1, "drifted": 0, "missing": 0, "errors": 0}
    assert calls == [[allocation["external_id"]]]
    with runtime.sessions() as session:
        assert session.scalars(select(AuditEvent).where(
            AuditEvent.action == "allocation.drift_found")).first() is None


def test_an_unreachable_provider_fails_the_reconcile_with_its_reason(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        cloud: FakeProject, monkeypatch: pytest.MonkeyPatch) -> None:
    allocation = _active(client, world, runtime)

    def unreachable(self: FakeProject, external_ids: Sequence[str]) -> dict[str, ProjectState]:
        raise DriverError(f"fake cloud {self.settings.cloud} is unreachable")

    monkeypatch.setattr(FakeProject, "describe_many", unreachable)
    op = run_reconcile(runtime)
    assert op.state.value == "pending" and "unreachable" in (op.last_error or "")
    shown = client.get(f"{API}/allocations/{allocation['id']}",
                       headers=world["pi_a"].headers).json()
    assert shown["external_id"] == allocation["external_id"]  # not taken for missing
    assert shown["status_message"].startswith("provider error:")


def test_a_failed_re_creation_is_tried_again_on_the_next_round(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        cloud: FakeProject, monkeypatch: pytest.MonkeyPatch) -> None:
    allocation = _active(client, world, runtime, cores=8)
    cloud.delete_project(allocation["external_id"])
    made = FakeProject.ensure_project

    def refused(self: FakeProject, spec: Any) -> str:
        raise PermanentDriverError("the fake cloud refuses new projects today")

    monkeypatch.setattr(FakeProject, "ensure_project", refused)
    first = _result(run_reconcile(runtime, datetime(2026, 11, 21, 10, 0, tzinfo=UTC)))
    assert first["missing"] == 1
    shown = client.get(f"{API}/allocations/{allocation['id']}",
                       headers=world["pi_a"].headers).json()
    assert (shown["state"], shown["external_id"]) == ("active", None)
    assert "refuses new projects" in shown["status_message"]

    monkeypatch.setattr(FakeProject, "ensure_project", made)
    second = _result(run_reconcile(runtime, datetime(2026, 11, 21, 10, 5, tzinfo=UTC)))
    assert second == {"checked": 1, "drifted": 1, "missing": 1, "errors": 0}
    shown = client.get(f"{API}/allocations/{allocation['id']}",
                       headers=world["pi_a"].headers).json()
    assert shown["external_id"] is not None and shown["status_message"] == "active"
    assert dict(cloud.describe(shown["external_id"]).quota)["cores"] == 8
    with runtime.sessions() as session:
        found = session.scalars(select(AuditEvent.changes).where(
            AuditEvent.action == "allocation.drift_found")).all()
    assert [change["differences"] for change in found][-1] == [
        "project missing: no tenant since an earlier repair failed"]
