"""The reconciler's bulk read on the real cloud: Nova and Cinder usage counted from
listings of every server, volume and snapshot equals each project's quota details, and
drift made behind OCX's back (quotas, roles, a disabled or deleted project) shows."""

from __future__ import annotations

import uuid

import pytest
from openstack.connection import Connection

from ocx.domain.allocations import provisioning
from ocx.drivers.project.base import ProjectSpec, ProjectUser
from ocx.drivers.project.openstack import OpenStackProject
from tests.servers.openstack import Cloud, project_driver

pytestmark = pytest.mark.openstack


@pytest.fixture
def driver(openstack_cloud: Cloud) -> OpenStackProject:
    """OCX's OpenStack driver on the shared cloud."""
    return project_driver(openstack_cloud.keystone)


def _project(driver: OpenStackProject, quota: dict[str, int]) -> tuple[ProjectSpec, str]:
    allocation = uuid.uuid4().hex
    spec = ProjectSpec(allocation, f"bulk-{allocation[:8]}")
    external_id = driver.ensure_project(spec)
    driver.set_quota(external_id, quota)
    return spec, external_id


def _boot(conn: Connection, cloud: Cloud, flavor_id: str, status: str = "ACTIVE") -> None:
    server = conn.compute.create_server(name="bulk", flavor_id=flavor_id,
                                        image_id=cloud.image_id, networks="none")
    conn.compute.wait_for_server(server, status=status, failures=[], wait=120)


def _volume(conn: Connection, size: int, snapshot: bool = False) -> None:
    storage = conn.block_storage
    volume = storage.wait_for_status(storage.create_volume(size=size), status="available",
                                     wait=60)
    if snapshot:
        storage.wait_for_status(storage.create_snapshot(volume_id=volume.id),
                                status="available", wait=60)


def test_usage_counted_from_listings_equals_each_projects_quota_details(
        openstack_cloud: Cloud, admin: Connection, driver: OpenStackProject) -> None:
    big = admin.compute.create_flavor(name=f"bulk-{uuid.uuid4().hex[:6]}", vcpus=2, ram=128,
                                      disk=1)
    huge = admin.compute.create_flavor(name=f"bulk-{uuid.uuid4().hex[:6]}", vcpus=64,
                                       ram=4 * 1024 * 1024, disk=1)  # no host fits: cell0
    room = {"cores": 200, "ram_mib": 8 * 1024 * 1024, "instances": 10, "volumes": 10,
            "storage_gib": 100, "snapshots": 5}
    ids = [_project(driver, room)[1] for _ in range(3)]
    busy, other = (openstack_cloud.admin_in(pid) for pid in ids[:2])
    try:
        _boot(busy, openstack_cloud, openstack_cloud.flavor_id)
        _boot(busy, openstack_cloud, big.id)
        _boot(busy, openstack_cloud, huge.id, status="ERROR")  # counted by Nova too
        _volume(busy, 2, snapshot=True)
        _volume(other, 3)
    finally:
        busy.close()
        other.close()

    many = driver.describe_many(ids)

    assert many == {external_id: driver.describe(external_id) for external_id in ids}
    used = {pid: {c: many[pid].usage[c] for c in room} for pid in ids}
    assert used[ids[0]] == {"instances": 3, "cores": 1 + 2 + 64,
                            "ram_mib": 64 + 128 + 4 * 1024 * 1024,
                            "volumes": 1, "snapshots": 1, "storage_gib": 2 + 2}
    assert used[ids[1]] == {**dict.fromkeys(room, 0), "volumes": 1, "storage_gib": 3}
    assert used[ids[2]] == dict.fromkeys(room, 0)
    assert all(many[pid].quota[c] == room[c] for pid in ids for c in room)


def test_drift_made_behind_ocx_shows_in_the_bulk_read(
        admin: Connection, driver: OpenStackProject) -> None:
    quota = {"cores": 4, "instances": 2, "volumes": 3, "storage_gib": 30, "networks": 2}
    member = ProjectUser(f"bulk-{uuid.uuid4().hex[:6]}", "bulk@example.org")
    made = [_project(driver, quota) for _ in range(3)]
    for _, external_id in made:
        driver.ensure_user(external_id, member)
    (spec, changed), (_, disabled), (_, deleted) = made
    admin.compute.update_quota_set(changed, cores=9)
    admin.block_storage.update_quota_set(changed, volumes=7)
    admin.network.update_quota(changed, networks=5)
    user = admin.identity.find_user(f"ocx-{member.user_id}", ignore_missing=False)
    for assignment in admin.identity.role_assignments(scope_project_id=changed,
                                                      user_id=user.id):
        admin.identity.unassign_project_role_from_user(changed, user.id,
                                                       assignment.role["id"])
    admin.identity.update_project(disabled, is_enabled=False)
    admin.identity.delete_project(deleted)

    many = driver.describe_many([external_id for _, external_id in made])

    assert set(many) == {changed, disabled}  # the deleted one is missing
    want = provisioning.Desired(spec=spec, enabled=True, quota=quota,
                                users={member.user_id: member})
    assert provisioning.differences(want, many[changed]) == [
        "quota cores: provider has 9, OCX wants 4",
        "quota networks: provider has 5, OCX wants 2",
        "quota volumes: provider has 7, OCX wants 3",
        f"user {member.user_id} missing"]
    assert provisioning.differences(want, many[disabled]) == [
        "enabled: provider has False, OCX wants True"]
    assert many == {pid: driver.describe(pid) for pid in many}
