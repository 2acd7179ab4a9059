"""The allocation flow through OCX (API, journal, workers) against the real OpenStack.

One cloud per test session (``openstack_cloud``, shared with the driver contract tests);
SQLite only; each test makes its own allocation.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openstack.connection import Connection
from pydantic import SecretStr

from ocx.drivers.project.base import Credentials
from ocx.runtime import Runtime
from tests.servers.openstack import Cloud, credentials_work, openstack_cloud, osc_venv
from tests.support.collection import sqlite_only
from tests.support.operations import run_due_operations
from tests.support.world import World

__all__ = ["openstack_cloud"]  # a fixture, imported to be found
API = "/api/v1"
COMPONENTS = [
    {"name": "cores", "unit": "core", "max": 64, "default": 2},
    {"name": "ram_mib", "unit": "MiB", "max": 262144, "default": 1024},
    {"name": "instances", "unit": "server", "max": 20, "default": 2},
    {"name": "volumes", "unit": "volume", "max": 50, "default": 2},
    {"name": "storage_gib", "unit": "GiB", "max": 10000, "default": 20},
    {"name": "networks", "unit": "network", "max": 20, "default": 2},
    {"name": "floating_ips", "unit": "address", "max": 10, "default": 1},
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """SQLite only here: these tests are about the provider, not the database (both
    databases run the same flow against the fake in tests/integration/allocations)."""
    sqlite_only(config, items, Path(__file__).parent)


def settings_for(cloud: Cloud, **changes: Any) -> dict[str, Any]:
    """OpenStack driver settings signing in as the cloud's bootstrap admin."""
    return {"auth_url": cloud.keystone.url, "username": "admin",
            "password": cloud.keystone.admin_password, "timeout_s": 20, **changes}


@pytest.fixture
def market(client: TestClient, world: World, openstack_cloud: Cloud) -> dict[str, Any]:
    """org-b sells "compute" on the real OpenStack (manual approval); org-a buys."""
    provider = client.post(f"{API}/providers", json={"organization": "org-b", "name": "cloudb"},
                           headers=world["operator"].headers)
    assert provider.status_code == 201, provider.text
    offering = client.post(f"{API}/offerings", headers=world["admin_b"].headers, json={
        "provider": "cloudb", "name": "compute", "kind": "openstack", "driver": "openstack",
        "driver_settings": settings_for(openstack_cloud), "components": COMPONENTS})
    assert offering.status_code == 201, offering.text
    return {"offering": offering.json()}


@pytest.fixture
def admin(openstack_cloud: Cloud) -> Iterator[Connection]:
    """The cloud's administrator, to look behind OCX's back."""
    conn = openstack_cloud.keystone.admin()
    yield conn
    conn.close()


def request_allocation(client: TestClient, world: World, **quota: int) -> dict[str, Any]:
    """org-a:proj-a's PI asks for compute."""
    response = client.post(f"{API}/allocations", headers=world["pi_a"].headers, json={
        "project": "org-a:proj-a", "offering": "cloudb:compute", "quota": quota})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def show(client: TestClient, world: World, allocation_id: str) -> dict[str, Any]:
    """The allocation as its PI sees it."""
    response = client.get(f"{API}/allocations/{allocation_id}", headers=world["pi_a"].headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def active_allocation(client: TestClient, world: World, runtime: Runtime,
                      **quota: int) -> dict[str, Any]:
    """Requested, approved by org-b's admin, provisioned by the worker: active."""
    allocation = request_allocation(client, world, **quota)
    approved = client.post(f"{API}/allocations/{allocation['id']}/approve", json={},
                           headers=world["admin_b"].headers)
    assert approved.status_code == 200, approved.text
    run_due_operations(runtime)
    shown = show(client, world, allocation["id"])
    assert shown["state"] == "active", shown
    return shown


def issue(client: TestClient, world: World, runtime: Runtime, who: str,
          allocation_id: str) -> dict[str, Any]:
    """Credentials for ``who`` through the API: ask, let the worker make them, collect."""
    url = f"{API}/allocations/{allocation_id}/credentials"
    op = client.post(url, headers=world[who].headers)
    assert op.status_code == 202, op.text
    run_due_operations(runtime)
    collected = client.post(f"{url}/{op.json()['id']}", headers=world[who].headers)
    assert collected.status_code == 200, collected.text
    return collected.json()  # type: ignore[no-any-return]


def as_credentials(issued: dict[str, Any]) -> Credentials:
    """The API's answer as the driver's type, for the helpers of tests/servers."""
    return Credentials(credential_id=issued["credential_id"],
                       files={name: SecretStr(text) for name, text in issued["files"].items()})


def works(issued: dict[str, Any], directory: Path) -> bool:
    """Whether Keystone accepts these credentials now (through openstacksdk)."""
    return credentials_work(as_credentials(issued), directory)


def write_files(issued: dict[str, Any], directory: Path) -> Path:
    """The issued files, as ``ocx allocation credentials --dir`` writes them."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in issued["files"].items():
        (directory / name).write_text(text)
        (directory / name).chmod(0o600)
    return directory


def osc(script: str, directory: Path) -> subprocess.CompletedProcess[str]:
    """Run the real ``openstack`` CLI (its own venv) in a clean shell in ``directory``."""
    venv = osc_venv()
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(directory),
           "OS_CLIENT_CONFIG_FILE": str(directory / "clouds.yaml")}
    return subprocess.run(["bash", "-c", script], cwd=directory, env=env, text=True,
                          capture_output=True, timeout=120, check=False)


def keystone_user_id(admin: Connection, ocx_user_id: str) -> str | None:
    """The Keystone id of the user OCX made for an OCX user, if it exists."""
    found = list(admin.identity.users(name=f"ocx-{ocx_user_id}"))
    return str(found[0].id) if found else None


def member_ids(client: TestClient, world: World) -> dict[str, str]:
    """org-a:proj-a's members: email -> OCX user id."""
    people = client.get(f"{API}/projects/org-a:proj-a/members",
                        headers=world["pi_a"].headers).json()["items"]
    return {p["email"]: p["user_id"] for p in people}


def unique(prefix: str) -> str:
    """A name nobody else uses on the shared cloud."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
