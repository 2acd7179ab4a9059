"""The OpenStack usage collector against real Nova and Cinder (fake virt and volume drivers).

Servers are booted, stopped, started, resized (and the resize confirmed), shelved,
unshelved and deleted; a volume is created, extended and deleted. The collector runs as
the worker runs it, including once killed half-way, and the spans must match what
happened: their boundaries are Nova's own action times (which the test checks against
its own clock, allowing the seconds each action took), their shapes the flavors used.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import openstack
import pytest
from openstack.connection import Connection
from sqlalchemy import select

from ocx.domain.metering.collection import SETTLE
from ocx.domain.metering.meters import QUANTUM, amount_hours, hours_between
from ocx.domain.metering.models import UsageSpan
from ocx.drivers import stored_settings
from ocx.drivers.project import ProjectDriver
from ocx.drivers.usage.openstack_servers import parse_time
from ocx.runtime import Runtime
from tests.integration.metering.conftest import Metered, collect, make_offering
from tests.integration.metering.test_collect import Killed, killed_at
from tests.servers.openstack import Cloud, openstack_cloud
from tests.support.world import World

__all__ = ["openstack_cloud"]  # a fixture, imported to be found
pytestmark = [pytest.mark.openstack, pytest.mark.billing]
SLACK = timedelta(seconds=1)  # Nova stores action times to the second


@dataclass
class Tenant:
    """A Keystone project OCX metered, and a connection working in it as the admin."""

    project_id: str
    conn: Connection
    small: str  # flavor ids
    large: str
    image: str


@pytest.fixture
def tenant(openstack_cloud: Cloud) -> Iterator[Tenant]:
    admin = openstack_cloud.keystone.admin()
    project = admin.identity.create_project(name=f"usage-{uuid.uuid4().hex[:8]}",
                                            domain_id="default")
    role = admin.identity.find_role("admin")
    user = admin.identity.find_user("admin")
    admin.identity.assign_project_role_to_user(project, user, role)
    large = admin.compute.find_flavor("ocx.usage.large") or admin.compute.create_flavor(
        name="ocx.usage.large", vcpus=2, ram=128, disk=1)
    auth = {**openstack_cloud.keystone.admin_auth(), "project_name": project.name}
    conn = openstack.connect(auth=auth, auth_type="password", region_name="RegionOne",
                             load_yaml_config=False, load_envvars=False)
    yield Tenant(str(project.id), conn, openstack_cloud.flavor_id, str(large.id),
                 openstack_cloud.image_id)
    conn.close()
    admin.close()


@pytest.fixture
def metered_cloud(runtime: Runtime, world: World, openstack_cloud: Cloud,
                  tenant: Tenant) -> Metered:
    """The cloud as an OCX offering (settings stored sealed, as the API stores them)."""
    ks = openstack_cloud.keystone
    stored = stored_settings.validated(runtime.drivers, runtime.sealer, ProjectDriver,
                                       "openstack", {"auth_url": ks.url, "username": "admin",
                                                     "password": ks.admin_password})
    return make_offering(runtime, world, "openstack", stored, {"a": tenant.project_id})


def timed(action: Callable[[], Any]) -> tuple[datetime, datetime]:
    """Run ``action``; the wall-clock window it took, widened by Nova's rounding."""
    before = datetime.now(UTC) - SLACK
    action()
    return before, datetime.now(UTC) + SLACK


def settled_collect(runtime: Runtime, metered: Metered) -> None:
    """Collect once the last change is older than the collector's settling time (changes
    more recent than that wait for the next run)."""
    time.sleep(SETTLE.total_seconds() + 1)
    collect(runtime, metered.offering_id)


def server_spans(runtime: Runtime, server_id: str) -> list[UsageSpan]:
    with runtime.sessions() as session:
        return list(session.scalars(select(UsageSpan).where(
            UsageSpan.resource_id == server_id).order_by(UsageSpan.started_at)))


def test_server_lifecycles_become_exact_spans(runtime: Runtime, metered_cloud: Metered,
                                              tenant: Tenant) -> None:
    compute = tenant.conn.compute
    windows: dict[str, tuple[datetime, datetime]] = {}

    def wait(server: Any, status: str) -> None:
        compute.wait_for_server(server, status=status, wait=120, interval=0.5)

    booted: list[Any] = []
    windows["create"] = timed(lambda: (booted.append(compute.create_server(
        name="metered", flavor_id=tenant.small, image_id=tenant.image, networks="none")),
        wait(booted[0], "ACTIVE")))
    server = booted[0]
    settled_collect(runtime, metered_cloud)  # sees the server at its first flavor
    windows["stop"] = timed(lambda: (compute.stop_server(server), wait(server, "SHUTOFF")))
    windows["start"] = timed(lambda: (compute.start_server(server), wait(server, "ACTIVE")))
    windows["resize"] = timed(lambda: (compute.resize_server(server, tenant.large),
                                       wait(server, "VERIFY_RESIZE")))
    timed(lambda: (compute.confirm_server_resize(server), wait(server, "ACTIVE")))
    windows["shelve"] = timed(lambda: (compute.shelve_server(server),
                                       wait(server, "SHELVED_OFFLOADED")))
    windows["unshelve"] = timed(lambda: (compute.unshelve_server(server),
                                         wait(server, "ACTIVE")))
    short = compute.create_server(name="short", flavor_id=tenant.small,
                                  image_id=tenant.image, networks="none")
    wait(short, "ACTIVE")
    # Nova's action times are whole seconds: a server created and deleted within one has
    # no span (see above). Let it live past that, as any real one does.
    time.sleep(2)
    windows["delete"] = timed(lambda: (compute.delete_server(server),
                                       compute.delete_server(short),
                                       compute.wait_for_delete(server, wait=60),
                                       compute.wait_for_delete(short, wait=60)))

    # A collector killed in the middle of recording commits nothing; the rerun counts all.
    time.sleep(SETTLE.total_seconds() + 1)
    with killed_at(runtime.engine, 12), pytest.raises(Killed):
        collect(runtime, metered_cloud.offering_id)
    collect(runtime, metered_cloud.offering_id)
    collect(runtime, metered_cloud.offering_id)  # and once more: nothing new

    # What happened, with Nova's own times (to the second: an interval that lasted less
    # than a second has no span).
    actions = {a["action"]: parse_time(a["start_time"]) for a in admin_actions(tenant, server.id)}
    steps = [("create", "active", 1, 64), ("stop", "stopped", 1, 64),
             ("start", "active", 1, 64), ("resize", "active", 2, 128),
             ("shelve", "shelved", 2, 128), ("unshelve", "active", 2, 128)]
    ends = [name for name, *_ in steps[1:]] + ["delete"]
    expected = [(state, vcpus, ram, actions[name], actions[end])
                for (name, state, vcpus, ram), end in zip(steps, ends, strict=True)
                if actions[end] > actions[name]]
    spans = server_spans(runtime, server.id)
    assert [(s.attributes["state"], s.attributes["vcpus"], s.attributes["ram_mib"],
             s.started_at, s.ended_at) for s in spans] == expected
    for span in spans:
        name = next(n for n, *_ in steps if actions[n] == span.started_at)
        low, high = windows[name]
        assert low <= span.started_at <= high, f"{name} did not start when it happened"
        assert span.quantity == hours_between(span.started_at, span.ended_at).quantize(QUANTUM)
    short_spans = server_spans(runtime, short.id)
    assert len(short_spans) == 1 and short_spans[0].attributes["state"] == "active"


def ready_volume_service(storage: Any, timeout_s: float = 120) -> None:
    """Until Cinder's scheduler can place a volume (right after start-up its backend has
    not reported yet, and volumes go to error): a probe volume, deleted again."""
    deadline = time.monotonic() + timeout_s
    while True:
        probe = storage.create_volume(size=1, name="probe")
        placed = _settles(storage, probe)
        storage.delete_volume(probe)
        storage.wait_for_delete(probe, wait=120)
        if placed:
            return
        assert time.monotonic() < deadline, "Cinder never placed a volume"
        time.sleep(2)


def _settles(storage: Any, volume: Any) -> bool:
    """Whether the volume becomes available (False: it went to error)."""
    try:
        storage.wait_for_status(volume, status="available", failures=["error"], wait=120,
                                interval=0.5)
        return True
    except openstack.exceptions.ResourceFailure:
        return False


def admin_actions(tenant: Tenant, server_id: str) -> list[dict[str, Any]]:
    answer = tenant.conn.compute.get(f"/servers/{server_id}/os-instance-actions",
                                     microversion="2.58")
    return answer.json()["instanceActions"]  # type: ignore[no-any-return]



def test_volumes_are_metered_in_gib_hours(runtime: Runtime, metered_cloud: Metered,
                                          tenant: Tenant) -> None:
    storage = tenant.conn.block_storage

    def wait(volume: Any, status: str) -> None:
        storage.wait_for_status(volume, status=status, wait=120, interval=0.5)

    ready_volume_service(storage)
    made: list[Any] = []
    created = timed(lambda: (made.append(storage.create_volume(size=1, name="metered")),
                             wait(made[0], "available")))
    volume = storage.get_volume(made[0])
    settled_collect(runtime, metered_cloud)
    extended = timed(lambda: (storage.extend_volume(volume, 2), wait(volume, "available")))
    settled_collect(runtime, metered_cloud)
    deleted = timed(lambda: (storage.delete_volume(volume),
                             storage.wait_for_delete(volume, wait=120)))
    noticed = timed(lambda: collect(runtime, metered_cloud.offering_id))
    collect(runtime, metered_cloud.offering_id)  # nothing new

    spans = server_spans(runtime, volume.id)
    sizes = [s.attributes["size_gib"] for s in spans]
    assert sizes == sorted(sizes) and set(sizes) == {1, 2}, sizes
    assert all(s.meter == "volume.storage" and s.unit == "GiB-hour" for s in spans)
    first = spans[0].started_at
    assert first == parse_time(volume.created_at)  # Cinder's own time
    assert created[0] <= first <= created[1]
    grown = next(s.started_at for s in spans if s.attributes["size_gib"] == 2)
    assert extended[0] <= grown <= extended[1], "the new size counts from the extension"
    # Cinder keeps no deletion time: the run that no longer lists the volume dates it at
    # its own horizon (its start less the settling time).
    assert deleted[0] - SETTLE <= spans[-1].ended_at <= noticed[1], "deletion dated by its run"
    assert all(a.ended_at == b.started_at for a, b in itertools.pairwise(spans))
    for span in spans:
        gib_hours = amount_hours(Decimal(str(span.attributes["size_gib"])), span.started_at,
                                 span.ended_at)
        assert span.quantity == gib_hours.quantize(QUANTUM)


def test_floating_ips_are_metered_in_hours(runtime: Runtime, metered_cloud: Metered,
                                           tenant: Tenant, openstack_cloud: Cloud) -> None:
    network = tenant.conn.network
    made: list[Any] = []
    created = timed(lambda: made.append(network.create_ip(
        floating_network_id=openstack_cloud.external_network_id)))
    address = network.get_ip(made[0].id)
    assert address.project_id == tenant.project_id
    settled_collect(runtime, metered_cloud)
    deleted = timed(lambda: network.delete_ip(address))
    noticed = timed(lambda: collect(runtime, metered_cloud.offering_id))
    collect(runtime, metered_cloud.offering_id)  # nothing new

    spans = server_spans(runtime, address.id)
    assert [(s.meter, s.unit, s.attributes["address"]) for s in spans] == [
        ("network.floating_ip", "hour", address.floating_ip_address)]
    span = spans[0]
    assert span.started_at == parse_time(address.created_at)  # Neutron's own time
    assert created[0] <= span.started_at <= created[1]
    # Neutron keeps no deletion time either: the run that no longer lists it dates it.
    assert span.ended_at is not None
    assert deleted[0] - SETTLE <= span.ended_at <= noticed[1]
    assert span.quantity == hours_between(span.started_at, span.ended_at).quantize(QUANTUM)
