"""The periodic reconcile against the real OpenStack: a Keystone project deleted behind
OCX's back is found by the bulk read, audited, and made again with its quotas and
members."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openstack.connection import Connection
from sqlalchemy import select

from ocx.domain.audit.models import AuditEvent
from ocx.drivers.project.openstack import allocation_tag
from ocx.runtime import Runtime
from tests.integration.allocations.test_reconciler_bulk import run_reconcile
from tests.integration.openstack.conftest import active_allocation, member_ids, show
from tests.support.world import World

pytestmark = pytest.mark.openstack


def _members(admin: Connection, project_id: str) -> set[str]:
    """OCX user ids with a role on the Keystone project."""
    names = {str(a.user["name"]) for a in admin.identity.role_assignments(
        scope_project_id=project_id, include_names=True) if a.user}
    return {name.removeprefix("ocx-") for name in names if name.startswith("ocx-")}


def test_a_project_deleted_in_keystone_is_found_audited_and_made_again(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        admin: Connection) -> None:
    allocation = active_allocation(client, world, runtime, cores=3, instances=2, volumes=3,
                                   storage_gib=30, networks=4)
    gone = allocation["external_id"]
    admin.identity.delete_project(gone)  # the provider's operator, not OCX

    op = run_reconcile(runtime)
    with runtime.sessions() as session:
        found = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "allocation.drift_found")).one()
    assert op.result == {"checked": 1, "drifted": 1, "missing": 1, "errors": 0}
    assert found.target_id == allocation["id"] and found.changes["external_id"] == gone
    assert found.changes["differences"] == [
        f"project missing: the provider has no tenant {gone}"]
    shown = show(client, world, allocation["id"])
    made = shown["external_id"]
    assert shown["state"] == "active" and made not in (None, gone)
    project = admin.identity.get_project(made)
    assert allocation_tag(allocation["id"]) in project.tags and project.is_enabled
    nova = admin.compute.get_quota_set(made)
    cinder = admin.block_storage.get_quota_set(made)
    assert (nova.cores, nova.instances, cinder.volumes, cinder.gigabytes) == (3, 2, 3, 30)
    assert admin.network.get_quota(made).networks == 4
    assert _members(admin, made) == set(member_ids(client, world).values())

    later = run_reconcile(runtime, datetime.now(UTC) + timedelta(minutes=5))  # next round
    assert later.id != op.id
    assert later.result == {"checked": 1, "drifted": 0, "missing": 0, "errors": 0}
