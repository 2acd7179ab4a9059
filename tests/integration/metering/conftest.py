"""Metering fixtures: a provider selling one offering served by the fake usage feed, and
allocations of both world projects on it (tenants ``tenant-a`` and ``tenant-b``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from ocx.domain.allocations.models import Allocation
from ocx.domain.allocations.states import AllocationState
from ocx.domain.marketplace.models import Offering, Provider
from ocx.domain.metering import collection
from ocx.domain.operations.handlers import OperationRef
from ocx.drivers.usage import fake as fake_feed
from ocx.runtime import Runtime

# The CLI tests here use the real app served over HTTP, as in tests/integration/cli.
from tests.integration.cli.conftest import config_file, ocx, server_url  # noqa: F401
from tests.support.world import World


@dataclass(frozen=True)
class Metered:
    """What the tests meter: ids, and the fake feed's cloud name."""

    provider_id: uuid.UUID
    offering_id: uuid.UUID
    cloud: str
    allocations: dict[str, uuid.UUID]  # side -> allocation id
    projects: dict[str, uuid.UUID]  # side -> project id


def make_offering(runtime: Runtime, world: World, driver: str,
                  settings: dict[str, object], tenants: dict[str, str]) -> Metered:
    """Provider ``meter-shop`` (org-b) selling ``compute``; one allocation per side."""
    with runtime.sessions.begin() as session:
        provider = Provider(organization_id=uuid.UUID(world.org_ids["b"]), name="meter-shop")
        session.add(provider)
        session.flush()
        offering = Offering(provider_id=provider.id, name="compute", kind="openstack",
                            driver=driver, driver_settings=settings, components=[])
        session.add(offering)
        session.flush()
        allocations = {}
        for side, tenant in tenants.items():
            allocation = Allocation(
                project_id=uuid.UUID(world.project_ids[side]), offering_id=offering.id,
                state=AllocationState.ACTIVE, quota={}, starts_at=datetime(2026, 1, 1, tzinfo=UTC),
                external_id=tenant)
            session.add(allocation)
            session.flush()
            allocations[side] = allocation.id
        return Metered(provider.id, offering.id, str(settings.get("cloud", "")), allocations,
                       {s: uuid.UUID(world.project_ids[s]) for s in tenants})


@pytest.fixture
def metered(runtime: Runtime, world: World) -> Iterator[Metered]:
    """The fake-fed offering, with a feed of its own."""
    cloud = f"meter-{uuid.uuid4().hex}"
    yield make_offering(runtime, world, "fake", {"cloud": cloud},
                        {"a": "tenant-a", "b": "tenant-b"})
    fake_feed.forget(cloud)


def collect(runtime: Runtime, offering_id: uuid.UUID,
            until: datetime | None = None) -> dict[str, object]:
    """Run one ``usage.collect`` for the offering (up to ``until``), as a worker would."""
    ref = OperationRef(id=uuid.uuid4(), kind=collection.COLLECT, target_type="offering",
                       target_id=str(offering_id), idempotency_key=str(uuid.uuid4()), attempts=1,
                       payload={"until": until.isoformat()} if until else {})
    result = collection.collect_offering(runtime.tasks.worker_context.handler_context, ref)
    assert result is not None
    return result
