"""The OpenStack project driver's Keystone side, against real Keystones (no Nova needed)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from ocx.drivers.project.base import ProjectSpec, ProjectUser
from ocx.drivers.project.openstack import OpenStackProject, allocation_tag
from ocx.errors import DriverError, PermanentDriverError
from tests.servers.openstack import (
    Keystone,
    credentials_work,
    free_port,
    keystone,
    keystone_b,
    project_driver,
)

pytestmark = pytest.mark.openstack
__all__ = ["keystone", "keystone_b"]  # fixtures, imported to be found


def _spec() -> ProjectSpec:
    allocation = uuid.uuid4().hex[:8]
    return ProjectSpec(allocation_id=allocation, name=f"ocx-test-{allocation}",
                       description="a test allocation")


def _user() -> ProjectUser:
    user_id = uuid.uuid4().hex[:12]
    return ProjectUser(user_id=user_id, email=f"{user_id}@example.org", name="Ada")


def test_ensure_project_tags_the_project_and_finds_it_again(keystone: Keystone) -> None:
    driver, spec = project_driver(keystone), _spec()
    external_id = driver.ensure_project(spec)
    assert driver.ensure_project(spec) == external_id
    project = driver.identity.get_project(external_id)
    assert (project.name, project.description) == (spec.name, spec.description)
    assert {"ocx", allocation_tag(spec.allocation_id)} <= set(project.tags)


def test_a_name_taken_by_a_project_ocx_did_not_create_is_refused(keystone: Keystone) -> None:
    driver, spec = project_driver(keystone), _spec()
    driver.identity.create_project(name=spec.name, domain_id="default")
    with pytest.raises(PermanentDriverError, match="OCX did not create"):
        driver.ensure_project(spec)


def test_the_password_is_never_shown_and_users_get_application_credentials(
        keystone: Keystone, tmp_path: Path) -> None:
    driver, user = project_driver(keystone), _user()
    external_id = driver.ensure_project(_spec())
    driver.ensure_user(external_id, user)
    driver.ensure_user(external_id, user)  # idempotent
    credentials = driver.issue_credentials(external_id, user)
    assert credentials_work(credentials, tmp_path)
    text = credentials.files["clouds.yaml"].get_secret_value()
    assert "v3applicationcredential" in text and "password" not in text
    assert driver.describe(external_id).users == {user.user_id}


def test_the_openrc_file_works_with_the_openstack_sdk(keystone: Keystone,
                                                     tmp_path: Path) -> None:
    driver, user = project_driver(keystone), _user()
    external_id = driver.ensure_project(_spec())
    driver.ensure_user(external_id, user)
    openrc = driver.issue_credentials(external_id, user).files["openrc.sh"].get_secret_value()
    env = dict(line.removeprefix("export ").split("=", 1) for line in openrc.splitlines()
               if line.startswith("export "))
    assert env["OS_AUTH_URL"].strip("'") == keystone.url
    assert env["OS_AUTH_TYPE"] == "v3applicationcredential"


def test_deleting_spares_what_ocx_did_not_create(keystone: Keystone, tmp_path: Path) -> None:
    driver, user, shared_user = project_driver(keystone), _user(), _user()
    bystander = driver.identity.create_project(name=f"other-{uuid.uuid4().hex[:6]}",
                                               domain_id="default")
    local = driver.identity.create_user(name=f"local-{uuid.uuid4().hex[:6]}",
                                        domain_id="default", password="x" * 16)
    first, second = driver.ensure_project(_spec()), driver.ensure_project(_spec())
    driver.ensure_user(first, user)
    for project in (first, second):
        driver.ensure_user(project, shared_user)
    member_role = driver.identity.find_role("member", ignore_missing=False)
    driver.identity.assign_project_role_to_user(first, local, member_role)
    driver.delete_project(first)
    driver.delete_project(first)  # gone already: fine
    assert driver.identity.find_project(first) is None
    assert driver.identity.find_user(f"ocx-{user.user_id}") is None
    assert driver.identity.find_user(f"ocx-{shared_user.user_id}") is not None  # in second
    assert driver.identity.get_user(local.id).name == local.name
    assert driver.identity.get_project(bystander.id).name == bystander.name


def test_issuing_to_a_user_without_access_is_refused(keystone: Keystone) -> None:
    driver = project_driver(keystone)
    external_id = driver.ensure_project(_spec())
    with pytest.raises(PermanentDriverError, match="no access"):
        driver.issue_credentials(external_id, _user())


def test_a_provider_that_is_down_is_a_temporary_error_naming_it() -> None:
    url = f"http://127.0.0.1:{free_port()}/v3"
    driver = OpenStackProject(OpenStackProject.Settings(auth_url=url, username="admin",
                                                        password="x", timeout_s=5))
    with pytest.raises(DriverError, match=f"OpenStack at {url} is unreachable") as caught:
        driver.ensure_project(_spec())
    assert not isinstance(caught.value, PermanentDriverError)


def test_refused_admin_credentials_are_permanent(keystone: Keystone) -> None:
    driver = OpenStackProject(OpenStackProject.Settings(auth_url=keystone.url,
                                                        username="admin", password="wrong"))
    with pytest.raises(PermanentDriverError, match="refused OCX's admin credentials"):
        driver.ensure_project(_spec())


def test_two_providers_side_by_side_keep_their_own_projects(
        keystone: Keystone, keystone_b: Keystone, tmp_path: Path) -> None:
    spec, user = _spec(), _user()
    a, b = project_driver(keystone), project_driver(keystone_b)
    in_a, in_b = a.ensure_project(spec), b.ensure_project(spec)
    assert in_a != in_b
    for driver, project in ((a, in_a), (b, in_b)):
        driver.ensure_user(project, user)
    creds_a = a.issue_credentials(in_a, user)
    a.set_enabled(in_a, False)
    assert b.describe(in_b).enabled and not a.describe(in_a).enabled
    assert credentials_work(b.issue_credentials(in_b, user), tmp_path)
    assert not credentials_work(creds_a, tmp_path)


def test_federated_users_carry_the_ocx_id_as_their_unique_id(keystone: Keystone,
                                                              tmp_path: Path) -> None:
    admin = project_driver(keystone)
    idp = f"idp-{uuid.uuid4().hex[:6]}"
    admin.identity.create_identity_provider(id=idp, is_enabled=True)
    admin.identity.create_mapping(id=idp, rules=[{
        "local": [{"user": {"name": "{0}"}}], "remote": [{"type": "REMOTE_USER"}]}])
    admin.identity.create_federation_protocol(idp, id="openid", mapping_id=idp)
    driver, user = project_driver(keystone, user_mode="federated", idp_id=idp), _user()
    external_id = driver.ensure_project(_spec())
    driver.ensure_user(external_id, user)
    (found,) = driver.identity.users(unique_id=user.user_id)
    assert found.name == f"ocx-{user.user_id}"
    assert driver.describe(external_id).users == {user.user_id}
    assert credentials_work(driver.issue_credentials(external_id, user), tmp_path)
