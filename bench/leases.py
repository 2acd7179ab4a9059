"""100 nodes leased, isolated and powered on: OCX's control-plane time, end to end.

Real servers, as in the tests: Open vSwitch (userspace datapath, one internal port per
node) and sushy-tools' Redfish emulator (one fake system per node, no artificial power
delay). OCX runs in this process: the API through its ASGI app, SQLite (or a temporary
PostgreSQL database with ``--postgres``), and ``--workers`` threads running the
journalled operations.

Stages, each timed:
1. lease: a project's PI leases N nodes from one resource-class offer (N API calls);
2. start: the lease job starts them (the nodes now belong to the project);
3. isolate: the PI creates a network and connects every node (N API calls); the workers
   apply the port changes, batched per switch;
4. power: the PI powers every node on (N API calls); the workers call the BMCs.

Run from the repository root, as root: ``.venv/bin/python bench/leases.py [--nodes N]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.servers.ovs import Ovs, open_vswitch
from tests.servers.postgres import temporary_database
from tests.servers.redfish import Redfish, redfish_emulator
from tests.support.world import World, build_world

from ocx.api.app import create_app
from ocx.config import Environment, Settings
from ocx.domain.baremetal import lifecycle
from ocx.domain.operations.models import Operation, OperationState
from ocx.persistence.base import utcnow
from ocx.persistence.db import make_engine
from ocx.persistence.migrate import upgrade
from ocx.runtime import Runtime, build_runtime
from ocx.workers.operations import execute_operation

API = "/api/v1"


class Bench:
    """The API as the world's people, and the workers."""

    def __init__(self, client: TestClient, world: World, runtime: Runtime, workers: int):
        self.client, self.world, self.runtime, self.workers = client, world, runtime, workers

    def call(self, who: str, method: str, path: str, body: Any = None) -> Any:
        """One API call; fails loudly on an error answer."""
        answer = self.client.request(method, API + path, json=body,
                                     headers=self.world[who].headers)
        if answer.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text}")
        return answer.json() if answer.content else None

    def run_operations(self) -> int:
        """Run every unfinished operation on the worker threads; how many ran."""
        context = self.runtime.tasks.worker_context
        ran = 0
        while True:
            with self.runtime.sessions() as session:
                ids = list(session.scalars(select(Operation.id).where(
                    Operation.state == OperationState.PENDING)))
            if not ids:
                return ran
            with ThreadPoolExecutor(self.workers) as pool:
                list(pool.map(lambda op_id: execute_operation(context, op_id), ids))
            ran += len(ids)


def setup(bench: Bench, ovs: Ovs, redfish: Redfish, nodes: int) -> dict[str, Any]:
    """The owner's inventory: a site, the OVS switch, N Redfish nodes cabled to it, and an
    offer of their class (not timed)."""
    bench.call("operator", "POST", "/sites", {"name": "bench", "vlan_min": 100,
                                              "vlan_max": 999})
    bench.call("admin_a", "POST", "/switches", {
        "name": "ovs", "site": "bench", "owner": "org-a", "driver": "ovs",
        "settings": {"db": ovs.db, "bridge": ovs.bridge}})
    ports = [f"bn{n}" for n in range(nodes)]
    args: list[str] = []
    for port in ports:
        args += ["--", "add-port", ovs.bridge, port, "--", "set", "interface", port,
                 "type=internal"]
    ovs.vsctl(*args)
    bench.call("admin_a", "POST", "/switches/ovs/ports", {"names": ports})
    for n, (port, system) in enumerate(zip(ports, redfish.systems, strict=True)):
        bench.call("admin_a", "POST", "/nodes", {
            "name": f"node-{n}", "site": "bench", "owner": "org-a", "resource_class": "gpu",
            "power_driver": "redfish", "power_settings": {
                "address": redfish.url, "system_id": system, "username": redfish.username,
                "password": redfish.password, "timeout_s": 10}})
        bench.call("admin_a", "POST", f"/nodes/node-{n}/nics", {
            "name": "eth0", "mac": f"52:54:01:00:{n // 256:02x}:{n % 256:02x}",
            "switch": "ovs", "port": port})
    bench.run_operations()  # cabling isolates the ports
    return dict(bench.call("admin_a", "POST", "/offers", {
        "resource_class": "gpu", "owner": "org-a", "site": "bench",
        "ends_at": (utcnow() + timedelta(days=7)).isoformat()}))


@contextmanager
def stage(name: str, timings: dict[str, float]) -> Iterator[None]:
    """Time the block as ``name``."""
    started = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - started
    print(f"  {name:<10} {timings[name]:8.3f} s", flush=True)


def lease_isolate_power(bench: Bench, offer: dict[str, Any], nodes: int) -> dict[str, float]:
    """The timed part; each stage's seconds."""
    timings: dict[str, float] = {}
    project = bench.world.project_ids["b"]
    ends = (utcnow() + timedelta(hours=8)).isoformat()
    with stage("lease", timings):
        leased = [bench.call("pi_b", "POST", "/leases", {"offer": offer["id"],
                                                         "project": project, "ends_at": ends})
                  for _ in range(nodes)]
    with stage("start", timings), bench.runtime.sessions() as session, session.begin():
        assert lifecycle.move_leases(session) == nodes
    with stage("isolate", timings):
        bench.call("pi_b", "POST", "/networks", {"name": "lab", "project": project,
                                                 "site": "bench"})
        for lease in leased:
            bench.call("pi_b", "POST", f"/nodes/{lease['node']}/connect",
                       {"nic": "eth0", "network": "lab"})
        bench.run_operations()
    with stage("power", timings):
        for lease in leased:
            bench.call("pi_b", "POST", f"/nodes/{lease['node']}/power", {"action": "on"})
        bench.run_operations()
    return timings


def check(bench: Bench, redfish: Redfish, nodes: int) -> None:
    """Every node attached and on, as the switch's records and the BMCs say."""
    with bench.runtime.sessions() as session:
        states = set(session.scalars(select(Operation.state)))
    assert states == {OperationState.DONE}, states
    shown = bench.call("pi_b", "GET", "/nodes?leased_by=org-b:proj-b&limit=500")["items"]
    assert len(shown) == nodes
    assert all(n["nics"][0]["networks"][0]["state"] == "attached" for n in shown)
    on = sum(httpx.get(f"{redfish.url}/redfish/v1/Systems/{system}", timeout=10,
                       auth=(redfish.username, redfish.password)).json()["PowerState"] == "On"
             for system in redfish.systems)
    assert on == nodes, on


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--postgres", metavar="ADMIN_DSN", default=None,
                        help="run on a temporary database of this PostgreSQL server "
                             "(e.g. postgresql://postgres@127.0.0.1:5432/postgres)")
    options = parser.parse_args()
    with ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="ocx-bench-"))
        ovs = stack.enter_context(open_vswitch())
        redfish = stack.enter_context(redfish_emulator(count=options.nodes))
        url = (stack.enter_context(temporary_database(options.postgres)) if options.postgres
               else f"sqlite:///{tmp}/ocx.db")
        settings = Settings(environment=Environment.TEST, database_url=url,
                            secret_key="bench-secret-key-0123456789", workers=0,
                            task_broker_url="memory://")
        engine = make_engine(url)
        upgrade(engine)
        runtime = build_runtime(settings, engine=engine)
        with TestClient(create_app(runtime=runtime)) as client:
            bench = Bench(client, build_world(runtime), runtime, options.workers)
            offer = setup(bench, ovs, redfish, options.nodes)
            print(f"{options.nodes} nodes (Redfish emulator, Open vSwitch), "
                  f"{options.workers} worker threads, {engine.dialect.name}:")
            timings = lease_isolate_power(bench, offer, options.nodes)
            check(bench, redfish, options.nodes)
        runtime.close()
    total = sum(timings.values())
    print(f"  {'total':<10} {total:8.3f} s  ({1000 * total / options.nodes:.1f} ms per node)")


if __name__ == "__main__":
    main()
