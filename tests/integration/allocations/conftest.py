"""A marketplace with one provider and an offering served by the fake project driver."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ocx.drivers.project.fake import FakeProject
from tests.support.world import World

API = "/api/v1"
COMPONENTS = [
    {"name": "cores", "unit": "core", "max": 64, "default": 4},
    {"name": "ram_mib", "unit": "MiB", "max": 262144, "default": 8192},
    {"name": "instances", "unit": "server", "max": 20, "default": 2},
]


@pytest.fixture
def cloud() -> Iterator[FakeProject]:
    """A fresh fake cloud for this test, seen the way a provider's operator would."""
    driver = FakeProject(FakeProject.Settings(cloud=f"test-{uuid.uuid4().hex}"))
    yield driver


@pytest.fixture
def market(client: TestClient, world: World, cloud: FakeProject) -> dict[str, Any]:
    """org-b sells "compute" (fake driver, manual approval) with a plan; org-a buys."""
    op = world["operator"].headers
    provider = client.post(f"{API}/providers", json={"organization": "org-b", "name": "cloudb"},
                           headers=op)
    assert provider.status_code == 201, provider.text
    offering = client.post(f"{API}/offerings", headers=world["admin_b"].headers, json={
        "provider": "cloudb", "name": "compute", "kind": "openstack", "driver": "fake",
        "driver_settings": {"cloud": cloud.settings.cloud}, "components": COMPONENTS})
    assert offering.status_code == 201, offering.text
    plan = client.post(f"{API}/offerings/cloudb:compute/plans", headers=world["admin_b"].headers,
                       json={"name": "standard", "currency": "USD", "rates": [
                           {"component": "cores", "kind": "usage", "unit": "core-hour",
                            "unit_price": "0.012", "valid_from": "2026-01-01T00:00:00Z"}]})
    assert plan.status_code == 201, plan.text
    return {"offering": offering.json(), "plan": plan.json()}
