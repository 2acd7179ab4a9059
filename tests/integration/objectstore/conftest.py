"""Object storage through OCX (API, journal, workers) against a real radosgw.

One Ceph cluster with radosgw per test session (the ``rgw`` fixture); SQLite only (the
database side of the flow runs on both in tests/integration/allocations); each test
makes its own allocation, so its own RGW user.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ocx.runtime import Runtime
from tests.integration.objectstore.server import RadosGateway, close_clients, s3_client
from tests.integration.openstack.conftest import issue, member_ids, show
from tests.support.collection import sqlite_only
from tests.support.operations import run_due_operations
from tests.support.world import World

__all__ = ["issue", "member_ids", "show"]  # shared with the OpenStack flow tests
API = "/api/v1"
COMPONENTS = [
    {"name": "storage_gib", "unit": "GiB", "max": 10000, "default": 10},
    {"name": "objects", "unit": "object", "max": 1000000, "default": 10000},
    {"name": "buckets", "unit": "bucket", "max": 100, "default": 10},
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """SQLite only here: these tests are about the provider, not the database."""
    sqlite_only(config, items, Path(__file__).parent)


@pytest.fixture(autouse=True)
def _s3_clients_closed() -> Iterator[None]:
    """The boto3 clients a test made are closed after it."""
    yield
    close_clients()


def make_market(client: TestClient, world: World, rgw: RadosGateway,
                **settings: Any) -> dict[str, Any]:
    """org-b sells "s3" on the real radosgw (manual approval); org-a buys."""
    provider = client.post(f"{API}/providers", json={"organization": "org-b", "name": "cloudb"},
                           headers=world["operator"].headers)
    assert provider.status_code == 201, provider.text
    offering = client.post(f"{API}/offerings", headers=world["admin_b"].headers, json={
        "provider": "cloudb", "name": "s3", "kind": "object_storage", "driver": "rgw",
        "driver_settings": rgw.settings(**settings), "components": COMPONENTS})
    assert offering.status_code == 201, offering.text
    return offering.json()  # type: ignore[no-any-return]


@pytest.fixture
def market(client: TestClient, world: World, rgw: RadosGateway) -> dict[str, Any]:
    """The offering, with the driver's default settings (data kept on release)."""
    return make_market(client, world, rgw)


def active_allocation(client: TestClient, world: World, runtime: Runtime,
                      **quota: int) -> dict[str, Any]:
    """org-a:proj-a's PI asks for s3, org-b's admin approves, the worker provisions."""
    asked = client.post(f"{API}/allocations", headers=world["pi_a"].headers, json={
        "project": "org-a:proj-a", "offering": "cloudb:s3", "quota": quota})
    assert asked.status_code == 201, asked.text
    allocation_id = asked.json()["id"]
    approved = client.post(f"{API}/allocations/{allocation_id}/approve", json={},
                           headers=world["admin_b"].headers)
    assert approved.status_code == 200, approved.text
    run_due_operations(runtime)
    shown = show(client, world, allocation_id)
    assert shown["state"] == "active", shown
    return shown


def client_of(issued: dict[str, Any]) -> Any:
    """A boto3 client from the issued ``s3.env`` (what a researcher would source)."""
    env = dict(line.removeprefix("export ").split("=", 1)
               for line in issued["files"]["s3.env"].splitlines()
               if line.startswith("export "))
    return s3_client(env["AWS_ENDPOINT_URL"], env["AWS_ACCESS_KEY_ID"],
                     env["AWS_SECRET_ACCESS_KEY"])


def refused(s3: Any) -> str | None:
    """The S3 error code RGW answers a bucket listing with (None: it worked)."""
    from botocore.exceptions import ClientError

    try:
        s3.list_buckets()
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return None
