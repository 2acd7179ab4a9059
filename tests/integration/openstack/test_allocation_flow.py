"""An allocation's life through OCX against the real OpenStack: quotas in Nova, Cinder
and Neutron, members booting with the issued clouds.yaml, losing access when they leave,
expiry, suspension, release, and a provider that is down."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openstack import exceptions as sdk_exceptions
from openstack.connection import Connection
from sqlalchemy import select, update

from ocx.domain.allocations import reconciler
from ocx.domain.allocations.models import Allocation
from ocx.domain.audit.models import AuditEvent
from ocx.domain.operations.models import Operation
from ocx.drivers.project.openstack import allocation_tag
from ocx.runtime import Runtime
from tests.integration.openstack.conftest import (
    API,
    active_allocation,
    as_credentials,
    issue,
    keystone_user_id,
    member_ids,
    request_allocation,
    settings_for,
    show,
    unique,
    works,
)
from tests.servers.openstack import Cloud, connect_with, free_port
from tests.support.operations import run_due_operations
from tests.support.world import World

pytestmark = pytest.mark.openstack
MEMBER = "member@a.example.org"


def _boot(cloud: Cloud, member: Connection) -> Any:
    server = member.compute.create_server(name=unique("vm"), flavor_id=cloud.flavor_id,
                                          image_id=cloud.image_id, networks="none")
    return member.compute.wait_for_server(server, wait=60)


def test_an_approved_allocation_gets_its_quotas_and_members_boot_up_to_them(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        openstack_cloud: Cloud, admin: Connection, tmp_path: Path) -> None:
    allocation = active_allocation(client, world, runtime, cores=2, ram_mib=512, instances=1,
                                   volumes=3, storage_gib=30, networks=4, floating_ips=1)
    project_id = allocation["external_id"]
    project = admin.identity.get_project(project_id)
    assert allocation_tag(allocation["id"]) in project.tags and project.is_enabled
    nova = admin.compute.get_quota_set(project_id)
    cinder = admin.block_storage.get_quota_set(project_id)
    neutron = admin.network.get_quota(project_id)
    assert (nova.cores, nova.ram, nova.instances) == (2, 512, 1)
    assert (cinder.volumes, cinder.gigabytes, neutron.networks, neutron.floating_ips) == (
        3, 30, 4, 1)
    people = member_ids(client, world)
    assert set(allocation["observed"]["users"]) == set(people.values())

    issued = issue(client, world, runtime, "member_a", allocation["id"])
    member = connect_with(as_credentials(issued), tmp_path)
    try:
        server = _boot(openstack_cloud, member)
        assert server.status == "ACTIVE" and server.project_id == project_id
        with pytest.raises(sdk_exceptions.HttpException, match=r"(?i)quota exceeded"):
            _boot(openstack_cloud, member)
        public = openstack_cloud.external_network_id
        address = member.network.create_ip(floating_network_id=public)
        assert address.project_id == project_id
        with pytest.raises(sdk_exceptions.HttpException, match=r"(?i)quota exceeded"):
            member.network.create_ip(floating_network_id=public)
    finally:
        member.close()

    removed = client.delete(f"{API}/projects/org-a:proj-a/members/{MEMBER}",
                            headers=world["pi_a"].headers)
    assert removed.status_code == 204
    run_due_operations(runtime)
    assert not works(issued, tmp_path)
    # OCX made that Keystone user and it has no other project: it is gone.
    assert keystone_user_id(admin, people[MEMBER]) is None
    assert show(client, world, allocation["id"])["observed"]["users"] == sorted(
        uid for email, uid in people.items() if email != MEMBER)


def test_expiry_disables_and_release_deletes_what_ocx_made_and_nothing_else(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        admin: Connection, tmp_path: Path) -> None:
    allocation = active_allocation(client, world, runtime)
    project_id = allocation["external_id"]
    issued = issue(client, world, runtime, "member_a", allocation["id"])
    assert works(issued, tmp_path)
    # Things OCX did not make: a user with a role on OCX's project, another project.
    stranger = admin.identity.create_user(name=unique("not-ocx"), domain_id="default")
    member_role = admin.identity.find_role("member", ignore_missing=False)
    admin.identity.assign_project_role_to_user(project_id, stranger, member_role)
    bystander = admin.identity.create_project(name=unique("not-ocx"), domain_id="default")

    with runtime.sessions.begin() as session:
        session.execute(update(Allocation).values(ends_at=datetime.now(UTC) - timedelta(1)))
        assert reconciler.expire_allocations(session) == 1
    run_due_operations(runtime)
    assert show(client, world, allocation["id"])["state"] == "expired"
    assert admin.identity.get_project(project_id).is_enabled is False
    assert not works(issued, tmp_path)

    ocx_users = [keystone_user_id(admin, uid) for uid in member_ids(client, world).values()]
    released = client.post(f"{API}/allocations/{allocation['id']}/release",
                           headers=world["pi_a"].headers)
    assert released.status_code == 202, released.text
    run_due_operations(runtime)
    assert show(client, world, allocation["id"])["state"] == "released"
    assert admin.identity.find_project(project_id, ignore_missing=True) is None
    for keystone_id in ocx_users:  # OCX's users had no other project: gone with it
        assert keystone_id is None or admin.identity.find_user(keystone_id) is None
    assert admin.identity.get_user(stranger.id).name == stranger.name
    assert admin.identity.get_project(bystander.id).name == bystander.name
    admin.identity.delete_user(stranger)
    admin.identity.delete_project(bystander)


def test_suspension_disables_the_project_and_lifting_it_needs_new_credentials(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        admin: Connection, tmp_path: Path) -> None:
    allocation = active_allocation(client, world, runtime)
    url = f"{API}/allocations/{allocation['id']}"
    issued = issue(client, world, runtime, "member_a", allocation["id"])
    disabled = client.post(f"{url}/disable", json={"reason": "unpaid invoice"},
                           headers=world["admin_b"].headers)
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["state"] == "disabled" and disabled.json()["operation_id"]
    run_due_operations(runtime)
    assert admin.identity.get_project(allocation["external_id"]).is_enabled is False
    assert not works(issued, tmp_path)
    refused = client.post(f"{url}/credentials", headers=world["member_a"].headers)
    assert refused.status_code == 409
    enabled = client.post(f"{url}/enable", json={"reason": "paid"},
                          headers=world["operator"].headers)
    assert enabled.status_code == 200 and enabled.json()["state"] == "active", enabled.text
    run_due_operations(runtime)
    assert admin.identity.get_project(allocation["external_id"]).is_enabled is True
    assert not works(issued, tmp_path)  # revoked, not suspended
    assert works(issue(client, world, runtime, "member_a", allocation["id"]), tmp_path)


def test_a_quota_changed_in_nova_is_found_and_repaired(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        admin: Connection) -> None:
    allocation = active_allocation(client, world, runtime, instances=3)
    project_id = allocation["external_id"]
    admin.compute.update_quota_set(project_id, instances=17)
    with runtime.sessions.begin() as session:
        assert reconciler.schedule_reconcile(session) == 1
    run_due_operations(runtime)
    assert admin.compute.get_quota_set(project_id).instances == 3
    with runtime.sessions() as session:
        found = session.scalar(select(AuditEvent).where(
            AuditEvent.action == "allocation.drift_found"))
    assert found is not None and found.target_id == allocation["id"]
    assert "quota instances: provider has 17, OCX wants 3" in found.changes["differences"]


def test_a_provider_that_is_down_fails_the_attempt_and_a_retry_finishes_it(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        openstack_cloud: Cloud, admin: Connection) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v3"
    operator, admin_b = world["operator"].headers, world["admin_b"].headers
    kept_secret = client.patch(f"{API}/offerings/cloudb:compute", headers=admin_b, json={
        "driver_settings": {"auth_url": dead, "timeout_s": 3}})
    assert kept_secret.status_code == 422  # the stored password never follows a new URL
    assert "password sent again" in kept_secret.json()["error"]["message"]
    repoint = client.patch(f"{API}/offerings/cloudb:compute", headers=admin_b, json={
        "driver_settings": settings_for(openstack_cloud, auth_url=dead, timeout_s=3)})
    assert repoint.status_code == 200, repoint.text  # nothing live yet: the provider may
    allocation = request_allocation(client, world)
    op_id = client.post(f"{API}/allocations/{allocation['id']}/approve", json={},
                        headers=admin_b).json()["operation_id"]
    run_due_operations(runtime)
    op = client.get(f"{API}/operations/{op_id}", headers=admin_b).json()
    assert (op["state"], op["attempts"]) == ("pending", 1)
    assert dead in op["last_error"] and "unreachable" in op["last_error"]
    shown = show(client, world, allocation["id"])
    assert shown["state"] == "provisioning" and dead in shown["status_message"]
    tagged = {"tags": allocation_tag(allocation["id"])}
    assert list(admin.identity.projects(**tagged)) == []  # nothing half-made

    back = {"driver_settings": settings_for(openstack_cloud)}
    refused = client.patch(f"{API}/offerings/cloudb:compute", headers=admin_b, json=back)
    assert refused.status_code == 409 and allocation["id"] in refused.text
    assert client.patch(f"{API}/offerings/cloudb:compute", headers=operator,
                        json=back).status_code == 200
    with runtime.sessions.begin() as session:
        session.execute(update(Operation).where(Operation.id == uuid.UUID(op_id))
                        .values(next_attempt_at=datetime.now(UTC)))
    run_due_operations(runtime)
    assert show(client, world, allocation["id"])["state"] == "active"
    assert len(list(admin.identity.projects(**tagged))) == 1
