"""Billing fixtures: a priced market, and October 2026's hand-computed usage of org-a."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ocx.domain.identity.models import Project, User
from ocx.runtime import Runtime
from tests.integration.billing.support import API, at, ok, priced_market, server
from tests.integration.billing.support import add_span as span
from tests.integration.cli.conftest import config_file, ocx, server_url
from tests.support.world import World

__all__ = ["config_file", "ocx", "server_url"]

pytestmark = pytest.mark.billing


@pytest.fixture
def market(client: TestClient, world: World) -> dict[str, Any]:
    """cloudb:compute with plan "standard" (see ``priced_market``)."""
    return priced_market(client, world)


def user_id(runtime: Runtime, email: str) -> str:
    """The id of the user with ``email``."""
    with runtime.sessions() as session:
        return str(session.scalar(select(User.id).where(User.email == email)))


@pytest.fixture
def october(client: TestClient, runtime: Runtime, world: World,
            market: dict[str, Any]) -> dict[str, Any]:
    """org-a's October: see docs/billing.md ("A month, computed by hand")."""
    a, pi = world.project_ids["a"], user_id(runtime, "pi@a.example.org")
    with runtime.sessions.begin() as session:
        org_id = session.get(Project, uuid.UUID(a)).organization_id
        second = Project(organization_id=org_id, name="proj-a2")
        session.add(second)
        session.flush()
        a2 = str(second.id)
    # s1: 4 vCPU / 8 GiB = 4 SU; active, stopped (billed), active into November
    server(runtime, market, a, "s1", at(1), at(11), vcpus=4, ram_mib=8192, user_id=pi)
    server(runtime, market, a, "s1", at(11), at(16), vcpus=4, ram_mib=8192, state="stopped",
           user_id=pi)
    server(runtime, market, a, "s1", at(16), at(3, month=11), vcpus=4, ram_mib=8192,
           user_id=pi)
    # s2: 2 vCPU / 16 GiB = 4 SU, resized at Oct 15 12:00 to 8 vCPU / 8 GiB = 8 SU,
    # deleted Oct 20
    server(runtime, market, a, "s2", at(1), at(15, 12), vcpus=2, ram_mib=16384)
    server(runtime, market, a, "s2", at(15, 12), at(20), vcpus=8, ram_mib=8192)
    # s3 (proj-a2): 1 SU for a day, then shelved (not billed)
    server(runtime, market, a2, "s3", at(1), at(2), vcpus=1, ram_mib=2048)
    server(runtime, market, a2, "s3", at(2), at(31), vcpus=1, ram_mib=2048, state="shelved")
    # s4: building, then error: never billed
    server(runtime, market, a, "s4", at(4, 23), at(5), vcpus=2, ram_mib=4096, state="building")
    server(runtime, market, a, "s4", at(5), at(6), vcpus=2, ram_mib=4096, state="error")
    # s5: one A100 GPU server for two days
    server(runtime, market, a, "s5", at(1), at(3), vcpus=16, ram_mib=65536, gpus=1,
           gpu_type="a100")
    # v1: 100 GiB from mid-September, resized to 200 GiB on Oct 16
    span(runtime, market, a, "volume.storage", "v1", at(16, month=9), at(16), size_gib=100)
    span(runtime, market, a, "volume.storage", "v1", at(16), at(1, month=11), size_gib=200)
    # f1 for 3 hours, f2 for 1 hour: 0.015 and 0.005 dollars, rounded half to even
    span(runtime, market, a, "network.floating_ip", "f1", at(10), at(10, 3), address="192.0.2.1")
    span(runtime, market, a, "network.floating_ip", "f2", at(10), at(10, 1), address="192.0.2.2")
    # the provider was down for a day: nothing of it is billed then
    ok(client.post(f"{API}/price-book/outages", headers=world["operator"].headers, json={
        "provider": "cloudb", "starts_at": "2026-10-25T00:00:00Z",
        "ends_at": "2026-10-26T00:00:00Z", "reason": "power"}), 201)
    return {"project": a, "project2": a2, "pi": pi}
