"""``describe_many`` answers exactly what ``describe`` answers, tenant by tenant: on the
fake, through the interface's one-by-one default, and on the real OpenStack, where it
reads Keystone and Neutron in a few listings and Nova and Cinder from a thread pool."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from openstack.connection import Connection

from ocx.drivers.project.base import ProjectDriver, ProjectSpec, ProjectUser
from ocx.drivers.project.fake import FakeProject
from ocx.drivers.project.openstack import OpenStackProject
from ocx.errors import DriverError
from tests.servers.openstack import Cloud, openstack_cloud, project_driver

__all__ = ["openstack_cloud"]  # a fixture, imported to be found
MISSING = uuid.uuid4().hex  # a tenant id nobody made


def _make(driver: ProjectDriver, **quota: int) -> str:
    allocation = uuid.uuid4().hex
    external_id = driver.ensure_project(ProjectSpec(allocation, f"many-{allocation[:8]}"))
    if quota:
        driver.set_quota(external_id, quota)
    return external_id


def test_the_fake_and_the_default_answer_like_describe_and_leave_missing_ones_out() -> None:
    fake = FakeProject(FakeProject.Settings(cloud=f"many-{uuid.uuid4().hex[:6]}"))
    ids = [_make(fake, cores=n + 1) for n in range(3)]
    fake.ensure_user(ids[0], ProjectUser("u1", "u1@example.org"))
    fake.set_enabled(ids[1], False)
    expected = {external_id: fake.describe(external_id) for external_id in ids}
    assert fake.describe_many([*ids, MISSING]) == expected
    assert ProjectDriver.describe_many(fake, [*ids, MISSING, ids[0]]) == expected
    assert fake.describe_many([]) == {}
    down = FakeProject(fake.settings.model_copy(update={"down": True}))
    with pytest.raises(DriverError, match="unreachable"):
        down.describe_many(ids)


@pytest.fixture
def driver(openstack_cloud: Cloud) -> OpenStackProject:
    """OCX's OpenStack driver on the shared cloud."""
    return project_driver(openstack_cloud.keystone)


@pytest.fixture
def admin(openstack_cloud: Cloud) -> Iterator[Connection]:
    """The cloud's administrator, acting behind OCX's back."""
    conn = openstack_cloud.keystone.admin()
    yield conn
    conn.close()


def _use(cloud: Cloud, project_id: str) -> None:
    """A server, a volume and a security group in the project: usage to read back."""
    inside = cloud.admin_in(project_id)
    try:
        server = inside.compute.create_server(name="many", flavor_id=cloud.flavor_id,
                                              image_id=cloud.image_id, networks="none")
        inside.compute.wait_for_server(server, wait=60)
        inside.block_storage.wait_for_status(inside.block_storage.create_volume(size=1),
                                             status="available", wait=60)
        inside.network.create_security_group(name="many")
    finally:
        inside.close()


@pytest.mark.openstack
def test_openstack_bulk_reads_exactly_what_describe_reads(
        driver: OpenStackProject, admin: Connection, openstack_cloud: Cloud) -> None:
    ids = [_make(driver, cores=3, instances=4, volumes=2, networks=5),
           _make(driver, ram_mib=2048, storage_gib=40, security_groups=7, ports=30),
           _make(driver), _make(driver, cores=1)]
    for n, external_id in enumerate(ids[:2]):
        driver.ensure_user(external_id, ProjectUser(f"many-{n}", f"many{n}@example.org"))
    driver.ensure_user(ids[1], ProjectUser("many-shared", "shared@example.org"))
    driver.set_enabled(ids[2], False)
    untagged = admin.identity.create_project(name=f"by-hand-{uuid.uuid4().hex[:8]}",
                                             domain_id="default").id  # made outside OCX
    _use(openstack_cloud, ids[0])
    deleted = _make(driver, cores=2)
    driver.delete_project(deleted)
    asked = [*ids, untagged, deleted, MISSING]

    many = driver.describe_many(asked)

    assert set(many) == {*ids, untagged}  # deleted and unknown ones are left out
    assert many == {external_id: driver.describe(external_id) for external_id in many}
    used = many[ids[0]].usage
    assert (used["instances"], used["cores"], used["volumes"], used["storage_gib"]) == (
        1, 1, 1, 1)
    assert used["security_groups"] >= 2  # the default group and ours
    assert many[ids[1]].users == {"many-1", "many-shared"}
    assert many[ids[2]].enabled is False
    assert driver.describe_many([]) == {}


@pytest.mark.openstack
def test_openstack_bulk_read_of_an_unreachable_cloud_is_a_retried_driver_error(
        driver: OpenStackProject) -> None:
    down = OpenStackProject(driver.settings.model_copy(update={
        "auth_url": "http://127.0.0.1:9/v3", "timeout_s": 5.0}))
    with pytest.raises(DriverError, match="unreachable") as raised:
        down.describe_many([MISSING])
    assert type(raised.value) is DriverError
