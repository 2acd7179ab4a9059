"""The contract every project driver keeps, run against the fake and a real OpenStack."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from openstack import exceptions as sdk_exceptions

from ocx.drivers.project.base import Credentials, ProjectDriver, ProjectSpec, ProjectUser
from ocx.drivers.project.fake import FakeProject
from ocx.errors import DriverError, PermanentDriverError
from tests.servers.openstack import (
    Cloud,
    connect_with,
    credentials_work,
    free_port,
    openstack_cloud,
    project_driver,
)

__all__ = ["openstack_cloud"]  # a fixture, imported to be found
T = TypeVar("T")


@dataclass
class Subject:
    """A driver, a way to check credentials, a way to change quotas behind OCX's back,
    a member's boot attempt (None where the provider boots nothing), and a driver of the
    same kind whose provider is down."""

    driver: ProjectDriver
    works: Callable[[str, Credentials], bool]
    tamper_quota: Callable[[str, str, int], None]
    boot: Callable[[Credentials], None] | None
    down: ProjectDriver
    down_endpoint: str


def _fake(request: pytest.FixtureRequest) -> Subject:
    cloud = f"contract-{uuid.uuid4().hex[:6]}"
    fake = FakeProject(FakeProject.Settings(cloud=cloud))
    return Subject(
        fake, lambda external_id, creds: fake.credential_valid(external_id, creds.credential_id),
        lambda external_id, component, limit: fake.tamper(external_id,
                                                          quota={component: limit}),
        None, FakeProject(FakeProject.Settings(cloud=cloud, down=True)), cloud)


def _openstack(request: pytest.FixtureRequest) -> Subject:
    cloud: Cloud = request.getfixturevalue("openstack_cloud")
    tmp_path: Path = request.getfixturevalue("tmp_path")
    driver = project_driver(cloud.keystone)

    def tamper(external_id: str, component: str, limit: int) -> None:
        assert component == "instances"  # the one this suite changes behind OCX's back
        driver.conn.compute.update_quota_set(external_id, instances=limit)

    def boot(creds: Credentials) -> None:
        member = connect_with(creds, tmp_path)
        try:
            server = member.compute.create_server(
                name=f"vm-{uuid.uuid4().hex[:6]}", flavor_id=cloud.flavor_id,
                image_id=cloud.image_id, networks="none")
            member.compute.wait_for_server(server, wait=60)
        finally:
            member.close()

    down_url = f"http://127.0.0.1:{free_port()}/v3"
    down = type(driver)(driver.settings.model_copy(update={"auth_url": down_url,
                                                           "timeout_s": 5.0}))
    return Subject(driver, lambda _, creds: credentials_work(creds, tmp_path), tamper, boot,
                   down, down_url)


@pytest.fixture(params=[_fake, pytest.param(_openstack, marks=pytest.mark.openstack)],
                ids=["fake", "openstack"])
def subject(request: pytest.FixtureRequest) -> Subject:
    """One project driver with its provider."""
    build: Callable[[pytest.FixtureRequest], Subject] = request.param
    return build(request)


def _spec() -> ProjectSpec:
    allocation = uuid.uuid4().hex[:8]
    return ProjectSpec(allocation_id=allocation, name=f"ocx-contract-{allocation}")


def _member() -> ProjectUser:
    user_id = uuid.uuid4().hex[:12]
    return ProjectUser(user_id=user_id, email=f"{user_id}@example.org", name="Grace")


def test_ensure_project_is_idempotent(subject: Subject) -> None:
    spec = _spec()
    external_id = subject.driver.ensure_project(spec)
    assert subject.driver.ensure_project(spec) == external_id
    assert subject.driver.describe(external_id).enabled


def test_quotas_are_set_and_read_back_leaving_others_alone(subject: Subject) -> None:
    external_id = subject.driver.ensure_project(_spec())
    subject.driver.set_quota(external_id, {"cores": 8, "instances": 2, "ram_mib": 4096})
    subject.driver.set_quota(external_id, {"volumes": 3, "storage_gib": 50, "networks": 4})
    quota = subject.driver.describe(external_id).quota
    assert {c: quota[c] for c in ("cores", "instances", "ram_mib", "volumes", "storage_gib",
                                  "networks")} == {"cores": 8, "instances": 2, "ram_mib": 4096,
                                                   "volumes": 3, "storage_gib": 50,
                                                   "networks": 4}


def test_an_unknown_component_is_refused(subject: Subject) -> None:
    external_id = subject.driver.ensure_project(_spec())
    with pytest.raises(PermanentDriverError):
        subject.driver.set_quota(external_id, {"gpus_per_moon": 1})


@pytest.fixture(params=[pytest.param(_openstack, marks=pytest.mark.openstack)],
                ids=["openstack"])
def booting_subject(request: pytest.FixtureRequest) -> Subject:
    """Drivers whose provider runs servers (the fake runs none)."""
    build: Callable[[pytest.FixtureRequest], Subject] = request.param
    return build(request)


def test_a_member_boots_until_the_instances_quota(booting_subject: Subject) -> None:
    subject = booting_subject
    assert subject.boot is not None
    external_id, member = subject.driver.ensure_project(_spec()), _member()
    subject.driver.set_quota(external_id, {"instances": 1, "cores": 4, "ram_mib": 1024})
    subject.driver.ensure_user(external_id, member)
    creds = subject.driver.issue_credentials(external_id, member)
    subject.boot(creds)
    with pytest.raises(sdk_exceptions.HttpException, match=r"(?i)quota exceeded"):
        subject.boot(creds)
    state = _eventually(lambda: subject.driver.describe(external_id),
                        lambda s: s.usage.get("instances") == 1)
    assert state.usage["instances"] == 1


def test_removing_a_member_takes_their_access_away(subject: Subject) -> None:
    external_id, member, other = subject.driver.ensure_project(_spec()), _member(), _member()
    for user in (member, other):
        subject.driver.ensure_user(external_id, user)
    creds = subject.driver.issue_credentials(external_id, member)
    assert subject.works(external_id, creds)
    subject.driver.remove_user(external_id, member)
    subject.driver.remove_user(external_id, member)  # no access already: fine
    assert not subject.works(external_id, creds)
    assert subject.driver.describe(external_id).users == {other.user_id}
    with pytest.raises(PermanentDriverError):
        subject.driver.issue_credentials(external_id, member)


def test_a_quota_changed_on_the_provider_shows_in_describe(subject: Subject) -> None:
    external_id = subject.driver.ensure_project(_spec())
    subject.driver.set_quota(external_id, {"instances": 2})
    subject.tamper_quota(external_id, "instances", 7)
    assert subject.driver.describe(external_id).quota["instances"] == 7


def test_disabling_stops_credentials(subject: Subject) -> None:
    external_id, member = subject.driver.ensure_project(_spec()), _member()
    subject.driver.ensure_user(external_id, member)
    creds = subject.driver.issue_credentials(external_id, member)
    subject.driver.set_enabled(external_id, False)
    assert not subject.driver.describe(external_id).enabled
    assert not subject.works(external_id, creds)
    subject.driver.set_enabled(external_id, True)
    assert not subject.works(external_id, creds)  # revoked, not just suspended
    assert subject.works(external_id, subject.driver.issue_credentials(external_id, member))


def test_delete_is_idempotent_and_the_project_is_gone(subject: Subject) -> None:
    external_id, member = subject.driver.ensure_project(_spec()), _member()
    subject.driver.ensure_user(external_id, member)
    subject.driver.delete_project(external_id)
    subject.driver.delete_project(external_id)
    with pytest.raises(PermanentDriverError):
        subject.driver.describe(external_id)


def test_a_provider_that_is_down_is_a_temporary_error_naming_it(subject: Subject) -> None:
    with pytest.raises(DriverError, match=subject.down_endpoint) as caught:
        subject.down.ensure_project(_spec())
    assert not isinstance(caught.value, PermanentDriverError)


def _eventually(read: Callable[[], T], done: Callable[[T], bool], timeout_s: float = 15) -> T:
    """Usage reaches Nova's quota records a moment after a server is ACTIVE."""
    deadline = time.monotonic() + timeout_s
    value = read()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(0.5)
        value = read()
    return value
