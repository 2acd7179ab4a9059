"""Issued credentials against the real OpenStack: one per member and allocation, even when
a worker crashes between Keystone's answer and OCX recording it; and the files work with
the real ``openstack`` command line client, as clouds.yaml and as openrc.sh."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openstack.connection import Connection

from ocx.domain.allocations import access
from ocx.domain.operations.handlers import OperationRef
from ocx.domain.operations.models import Operation
from ocx.drivers.project.openstack import credential_name
from ocx.runtime import Runtime
from tests.integration.openstack.conftest import (
    API,
    active_allocation,
    issue,
    keystone_user_id,
    member_ids,
    osc,
    works,
    write_files,
)
from tests.support.operations import run_due_operations
from tests.support.world import World

pytestmark = pytest.mark.openstack


def _credentials_of(admin: Connection, keystone_id: str, project_id: str) -> list[Any]:
    return [c for c in admin.identity.application_credentials(user=keystone_id)
            if c.project_id == project_id]


def test_a_retried_issue_replaces_the_credential_the_crashed_attempt_made(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        admin: Connection, tmp_path: Path) -> None:
    allocation = active_allocation(client, world, runtime)
    project_id = allocation["external_id"]
    url = f"{API}/allocations/{allocation['id']}/credentials"
    op_id = client.post(url, headers=world["member_a"].headers).json()["id"]
    with runtime.sessions() as session:
        op = session.get(Operation, uuid.UUID(op_id))
        assert op is not None
        ref = OperationRef.of(op)
    # The worker calls Keystone, then dies before recording the outcome.
    access.make_credentials(runtime.tasks.worker_context.handler_context, ref)
    keystone_id = keystone_user_id(admin, member_ids(client, world)["member@a.example.org"])
    assert keystone_id is not None
    assert len(_credentials_of(admin, keystone_id, project_id)) == 1
    run_due_operations(runtime)  # another worker runs it again
    collected = client.post(f"{url}/{op_id}", headers=world["member_a"].headers).json()
    (left,) = _credentials_of(admin, keystone_id, project_id)
    assert (left.id, left.name) == (collected["credential_id"], credential_name(project_id))
    assert works(collected, tmp_path)
    again = issue(client, world, runtime, "member_a", allocation["id"])
    assert works(again, tmp_path) and not works(collected, tmp_path)  # one per member
    assert len(_credentials_of(admin, keystone_id, project_id)) == 1


def test_the_files_work_with_the_openstack_cli_until_the_member_leaves(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        tmp_path: Path) -> None:
    allocation = active_allocation(client, world, runtime)
    issued = issue(client, world, runtime, "member_a", allocation["id"])
    directory = write_files(issued, tmp_path / "creds")
    cloud = next(iter(issued["files"]["clouds.yaml"].splitlines()[1:])).strip().strip(":")
    cloud = cloud.strip('"')
    token = osc(f"openstack --os-cloud {cloud} token issue -f value -c project_id", directory)
    assert token.returncode == 0, token.stderr
    assert token.stdout.strip() == allocation["external_id"]
    listed = osc(f"openstack --os-cloud {cloud} server list -f json", directory)
    assert (listed.returncode, listed.stdout.strip()) == (0, "[]"), listed.stderr
    sourced = osc("unset OS_CLIENT_CONFIG_FILE; source ./openrc.sh && "
                  "openstack token issue -f value -c project_id && "
                  "openstack server list -f value", directory)
    assert sourced.returncode == 0, sourced.stderr
    assert sourced.stdout.strip() == allocation["external_id"]
    removed = client.delete(f"{API}/projects/org-a:proj-a/members/member@a.example.org",
                            headers=world["pi_a"].headers)
    assert removed.status_code == 204
    run_due_operations(runtime)
    refused = osc(f"openstack --os-cloud {cloud} token issue", directory)
    # Keystone no longer knows the credential (it was deleted with the member's access).
    assert refused.returncode != 0
    assert "Could not find Application Credential" in refused.stderr, refused.stderr
