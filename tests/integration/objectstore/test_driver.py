"""The ``rgw`` project driver on its own against the real radosgw: what the allocation
flow tests do not reach (retries, limits' edge values, a radosgw that is down)."""

from __future__ import annotations

import uuid

import pytest
from pydantic import SecretStr

from ocx.drivers.project.base import ProjectMissing, ProjectSpec, ProjectUser
from ocx.drivers.project.rgw import GIB, RgwProject
from ocx.errors import DriverError, PermanentDriverError
from tests.integration.objectstore.server import RadosGateway
from tests.servers.ceph import free_port

pytestmark = pytest.mark.ceph


def _driver(rgw: RadosGateway, **changes: object) -> RgwProject:
    settings = {**rgw.settings(), "secret_key": SecretStr(rgw.secret_key), **changes}
    return RgwProject(RgwProject.Settings.model_validate(settings))


def _spec() -> ProjectSpec:
    allocation = str(uuid.uuid4())
    return ProjectSpec(allocation_id=allocation, name=f"ocx-test-{allocation[:8]}")


def test_ensure_project_is_idempotent_and_refuses_a_user_ocx_did_not_make(
        rgw: RadosGateway) -> None:
    driver, spec = _driver(rgw), _spec()
    uid = driver.ensure_project(spec)
    assert driver.ensure_project(spec) == uid
    assert rgw.admin("user", "info", f"--uid={uid}")["display_name"] == (
        f"{spec.name} [ocx-allocation {spec.allocation_id}]")
    squatter = _spec()
    rgw.admin("user", "create", f"--uid=ocx-{squatter.allocation_id}", "--display-name=mine")
    with pytest.raises(PermanentDriverError, match="did not create"):
        driver.ensure_project(squatter)
    with pytest.raises(ProjectMissing):
        driver.describe(f"ocx-{squatter.allocation_id}")
    assert set(driver.describe_many([uid, f"ocx-{squatter.allocation_id}"])) == {uid}


def test_limits_round_trip_including_unlimited_and_none(rgw: RadosGateway) -> None:
    driver = _driver(rgw)
    uid = driver.ensure_project(_spec())
    assert driver.describe(uid).quota == {"storage_gib": -1, "objects": -1, "buckets": 1000}
    driver.set_quota(uid, {"storage_gib": 5, "objects": 10, "buckets": -1})
    assert driver.describe(uid).quota == {"storage_gib": 5, "objects": 10, "buckets": -1}
    assert rgw.admin("user", "info", f"--uid={uid}")["user_quota"]["max_size"] == 5 * GIB
    driver.set_quota(uid, {"objects": -1, "buckets": 0})  # storage stays
    assert driver.describe(uid).quota == {"storage_gib": 5, "objects": -1, "buckets": 0}
    with pytest.raises(PermanentDriverError, match="cores"):
        driver.set_quota(uid, {"cores": 4})


def test_issuing_again_replaces_the_members_key(rgw: RadosGateway) -> None:
    driver, member = _driver(rgw), ProjectUser(user_id="u-42", email="u42@example.org")
    uid = driver.ensure_project(_spec())
    driver.ensure_user(uid, member)
    driver.ensure_user(uid, member)
    assert rgw.admin("user", "info", f"--uid={uid}")["keys"] == []  # none until issued
    first = driver.issue_credentials(uid, member)
    second = driver.issue_credentials(uid, member)
    keys = rgw.admin("user", "info", f"--uid={uid}")["keys"]
    assert [k["access_key"] for k in keys] == [second.credential_id] != [first.credential_id]
    driver.delete_project(uid)
    driver.delete_project(uid)
    assert uid not in rgw.admin("user", "list")


def test_a_radosgw_that_is_down_is_a_temporary_error_naming_it(rgw: RadosGateway) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(DriverError, match=endpoint) as caught:
        _driver(rgw, endpoint=endpoint, timeout_s=5).ensure_project(_spec())
    assert not isinstance(caught.value, PermanentDriverError)


def test_a_wrong_admin_secret_is_permanent(rgw: RadosGateway) -> None:
    with pytest.raises(PermanentDriverError, match="403"):
        _driver(rgw, secret_key=SecretStr("wrong")).ensure_project(_spec())
