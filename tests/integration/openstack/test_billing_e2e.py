"""From servers in the real Nova to an invoice: the whole billing chain.

An allocation is made through OCX (API, journal, worker: a real Keystone project), servers
are booted, stopped, started, resized and deleted in it through Nova, the usage collector
records them as spans, and ``invoice generate`` prices them. The expected SU-hours come
from Nova's own instance-action times (to the second), each interval rounded to the
microhour as spans store it: exact, no tolerance. Only the quota line of this month in
progress depends on the wall clock (it is charged up to the moment the draft is made), so
it is checked between the instants before and after ``generate``.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import openstack
import pytest
from fastapi.testclient import TestClient
from openstack.connection import Connection
from sqlalchemy import select

from ocx.domain.audit.models import AuditEvent
from ocx.domain.billing.rating import to_cents
from ocx.domain.metering.collection import SETTLE
from ocx.domain.metering.meters import QUANTUM, hours_between
from ocx.drivers.usage.openstack_servers import parse_time
from ocx.runtime import Runtime
from tests.integration.billing.support import ok
from tests.integration.metering.conftest import collect
from tests.integration.openstack.conftest import API, active_allocation
from tests.servers.openstack import Cloud
from tests.support.world import World

pytestmark = [pytest.mark.openstack, pytest.mark.billing]
SU_PRICE, CORE_PRICE, SETUP = Decimal("0.013"), Decimal("0.001"), Decimal("5")
CORES = 4
BILLED = {"active", "stopped"}  # of the default rules' billed states, what happens here


@pytest.fixture
def priced(client: TestClient, world: World, market: dict[str, Any]) -> None:
    """cloudb:compute's plan "standard": CPU SUs (default rules: 1 vCPU / 4 GiB; active
    and stopped servers billed), a quota charge per core-hour and a setup fee."""
    op = world["operator"].headers
    ok(client.post(f"{API}/offerings/cloudb:compute/plans", headers=op, json={
        "name": "standard", "currency": "USD", "rates": [
            {"component": "cores", "kind": "limit", "unit": "core-hour",
             "unit_price": str(CORE_PRICE), "valid_from": "2026-01-01T00:00:00Z"},
            {"component": "instances", "kind": "one_time", "unit": "each",
             "unit_price": str(SETUP), "valid_from": "2026-01-01T00:00:00Z"}]}), 201)
    ok(client.post(f"{API}/price-book/cloudb:compute/plans/standard/rates", headers=op, json={
        "component": "cpu_su", "unit_price": str(SU_PRICE),
        "valid_from": "2026-01-01T00:00:00Z"}), 201)


@pytest.fixture
def tenant(client: TestClient, world: World, runtime: Runtime, openstack_cloud: Cloud,
           priced: None) -> Iterator[tuple[str, Connection]]:
    """org-a:proj-a's active allocation (its id) and a connection working in its Keystone
    project as the cloud's admin."""
    allocation = active_allocation(client, world, runtime, cores=CORES, ram_mib=1024,
                                   instances=3)
    admin = openstack_cloud.keystone.admin()
    project = admin.identity.get_project(allocation["external_id"])
    admin.identity.assign_project_role_to_user(
        project, admin.identity.find_user("admin"), admin.identity.find_role("admin"))
    auth = {**openstack_cloud.keystone.admin_auth(), "project_name": project.name}
    conn = openstack.connect(auth=auth, auth_type="password", region_name="RegionOne",
                             load_yaml_config=False, load_envvars=False)
    yield allocation["id"], conn
    conn.close()
    admin.close()


def settled_collect(runtime: Runtime, offering_id: uuid.UUID) -> None:
    """One collector run, once the last change is older than its settling time."""
    time.sleep(SETTLE.total_seconds() + 1)
    collect(runtime, offering_id)


def actions(conn: Connection, server_id: str) -> dict[str, datetime]:
    """Nova's instance actions of a server (deleted ones too): action -> start time."""
    answer = conn.compute.get(f"/servers/{server_id}/os-instance-actions",
                              microversion="2.58").json()["instanceActions"]
    return {a["action"]: parse_time(a["start_time"]) for a in answer}


def su_hours(steps: list[tuple[str, int]], times: dict[str, datetime]) -> Decimal:
    """SU-hours of a server that went through ``steps`` (action, SUs from then on; the
    last ends it): each interval in microhours, as spans store it."""
    total = Decimal(0)
    for (action, units), (end, _) in itertools.pairwise(steps):
        total += units * hours_between(times[action], times[end]).quantize(QUANTUM)
    return total


def test_servers_to_an_invoice(client: TestClient, world: World, runtime: Runtime,
                               openstack_cloud: Cloud, tenant: tuple[str, Connection],
                               market: dict[str, Any]) -> None:
    allocation_id, conn = tenant
    offering_id = uuid.UUID(market["offering"]["id"])
    compute = conn.compute
    large = compute.find_flavor("ocx.bill.large") or compute.create_flavor(
        name="ocx.bill.large", vcpus=2, ram=128, disk=1)  # 2 SU; the small one is 1 SU

    def wait(server: Any, status: str) -> None:
        compute.wait_for_server(server, status=status, wait=120, interval=0.5)

    def boot(name: str) -> Any:
        server = compute.create_server(name=name, flavor_id=openstack_cloud.flavor_id,
                                       image_id=openstack_cloud.image_id, networks="none")
        wait(server, "ACTIVE")
        return server

    lived = datetime.now(UTC)
    resized, short = boot("billed"), boot("short")
    # The collector runs every minute: it sees the servers at their first flavor (Nova keeps
    # no flavor history, so a resize before any run would date the new flavor from boot).
    settled_collect(runtime, offering_id)
    steps: list[Callable[[], Any]] = [
        lambda: (compute.stop_server(resized), wait(resized, "SHUTOFF")),
        lambda: (compute.start_server(resized), wait(resized, "ACTIVE")),
        lambda: (compute.delete_server(short), compute.wait_for_delete(short, wait=60)),
        lambda: (compute.resize_server(resized, large.id), wait(resized, "VERIFY_RESIZE")),
        lambda: (compute.confirm_server_resize(resized), wait(resized, "ACTIVE")),
        lambda: (compute.delete_server(resized), compute.wait_for_delete(resized, wait=60))]
    for step in steps:
        time.sleep(1.5)  # every interval lasts whole seconds in Nova's times
        step()
    died = datetime.now(UTC)
    settled_collect(runtime, offering_id)

    times = {s.id: actions(conn, s.id) for s in (resized, short)}
    expected = {
        resized.id: su_hours([("create", 1), ("stop", 1), ("start", 1), ("resize", 2),
                              ("delete", 0)], times[resized.id]),
        short.id: su_hours([("create", 1), ("delete", 0)], times[short.id])}
    # Nova's times are when the test acted (to its second): the only wall-clock check
    for server_times in times.values():
        assert all(lived.replace(microsecond=0) <= t <= died for t in server_times.values())

    period = datetime.now(UTC).strftime("%Y-%m")
    before = datetime.now(UTC)
    made = ok(client.post(f"{API}/invoices", headers=world["operator"].headers,
                          json={"period": period, "organization": "org-a"}))
    after = datetime.now(UTC)
    invoice = ok(client.get(f"{API}/invoices/{made[0]['id']}",
                            headers=world["operator"].headers))
    servers = {line["resource_id"]: line for line in invoice["lines"]
               if line["resource_kind"] == "server"}
    assert set(servers) == set(expected)
    for server_id, quantity in expected.items():
        line = servers[server_id]
        assert (line["component"], line["unit"], line["unit_price"]) == (
            "cpu_su", "SU-hour", "0.013000")
        assert Decimal(line["quantity"]) == quantity, (server_id, times[server_id])
        assert Decimal(line["amount"]) == to_cents(Fraction(quantity) * Fraction(SU_PRICE))

    fees = {line["meter"]: line for line in invoice["lines"]
            if line["resource_kind"] == "allocation"}
    assert set(fees) == {"limit.cores", "one_time.instances"}
    assert (fees["one_time.instances"]["quantity"], fees["one_time.instances"]["amount"]) == (
        "1.000000", "5.00")
    with runtime.sessions() as session:
        active_at = session.scalar(select(AuditEvent.created_at).where(
            AuditEvent.target_id == allocation_id, AuditEvent.action == "allocation.active"))
    assert active_at is not None
    core_hours = Decimal(fees["limit.cores"]["quantity"])
    micro = Decimal("0.000001")  # the shown quantity is rounded to six places
    assert CORES * hours_between(active_at, before) - micro <= core_hours <= \
        CORES * hours_between(active_at, after) + micro
    assert Decimal(invoice["subtotal"]) == sum(Decimal(line["amount"])
                                               for line in invoice["lines"])
