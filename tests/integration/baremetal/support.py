"""A small bare-metal lab on top of the shared world: a site, a switch and nodes of org-a.

Everything is created through the API, as its owner's admin would; operations are run
in the test's thread (``drain``), retries included, so tests see their outcome at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from ocx.domain.baremetal import lifecycle
from ocx.domain.operations.models import Operation, OperationState
from ocx.persistence.base import utcnow
from ocx.runtime import Runtime
from ocx.workers.operations import execute_operation
from tests.support.world import World

API = "/api/v1"


@dataclass
class Lab:
    """Handles to the lab and helpers to drive it."""

    client: TestClient
    world: World
    runtime: Runtime
    site: str = "site-1"
    switch: str = "sw1"
    switch_key: str = field(default_factory=lambda: f"sw-{uuid.uuid4().hex[:8]}")
    nodes: list[str] = field(default_factory=list)

    def call(self, who: str, method: str, path: str, json: Any = None,
             expect: int | None = None, **params: Any) -> Any:
        """Call the API as ``who``; check the status if ``expect`` is given; the JSON body."""
        response = self.client.request(method, API + path, json=json, params=params or None,
                                       headers=self.world[who].headers)
        if expect is not None:
            assert response.status_code == expect, f"{method} {path}: {response.text}"
        return response.json() if response.content else None

    def drain(self, rounds: int = 50) -> None:
        """Run every pending operation to the end, retries included (no waiting)."""
        context = self.runtime.tasks.worker_context
        for _ in range(rounds):
            self.runtime.tasks.run_queued()
            with self.runtime.sessions() as session, session.begin():
                ids = list(session.scalars(select(Operation.id).where(
                    Operation.state.in_((OperationState.PENDING, OperationState.RUNNING)))))
                session.execute(update(Operation).where(Operation.id.in_(ids))
                                .values(next_attempt_at=utcnow(), lease_expires_at=utcnow()
                                        - timedelta(seconds=1)))
            if not ids:
                return
            for op_id in ids:
                execute_operation(context, op_id)
        raise AssertionError("operations still unfinished after draining")

    def operation(self, op_id: str) -> dict[str, Any]:
        """An operation as the operator sees it."""
        found: dict[str, Any] = self.call("operator", "GET", f"/operations/{op_id}", expect=200)
        return found

    def move_leases(self, now: datetime | None = None) -> int:
        """Run the lease job once (at ``now``), as the periodic task does."""
        with self.runtime.sessions() as session, session.begin():
            return lifecycle.move_leases(session, now)

    def check_power(self, name: str, who: str, power: str, boot: str) -> None:
        """Ask the node's BMC for its power state as ``who``; the node shows what the BMC
        said, ``boot`` as its boot device, and no BMC error."""
        status = self.call(who, "POST", f"/nodes/{name}/power", {"action": "status"},
                           expect=202)
        self.drain()
        assert self.operation(status["id"])["result"] == {"power_state": power}
        shown = self.node(name, who)
        assert (shown["power_state"], shown["boot_device"], shown["power_error"]) == (
            power, boot, None)

    def node(self, name: str, who: str = "operator") -> dict[str, Any]:
        """A node as ``who`` sees it."""
        found: dict[str, Any] = self.call(who, "GET", f"/nodes/{name}", expect=200)
        return found


def build_lab(client: TestClient, world: World, runtime: Runtime, *, nodes: int = 2,
              vlans: tuple[int, int] = (100, 109), power_driver: str = "fake",
              power: dict[str, Any] | None = None) -> Lab:
    """A site, a fake switch with ports p1..pN, and nodes n1..nN of org-a cabled to them
    (with fake BMCs unless ``power_driver`` and ``power`` say otherwise)."""
    lab = Lab(client, world, runtime)
    lab.call("operator", "POST", "/sites", {"name": lab.site, "vlan_min": vlans[0],
                                            "vlan_max": vlans[1]}, expect=201)
    lab.call("admin_a", "POST", "/switches", {
        "name": lab.switch, "site": lab.site, "owner": "org-a", "driver": "fake",
        "settings": {"name": lab.switch_key}}, expect=201)
    ports = [f"p{n}" for n in range(1, nodes + 1)]
    lab.call("admin_a", "POST", f"/switches/{lab.switch}/ports", {"names": ports}, expect=201)
    for n, port in enumerate(ports, start=1):
        name = f"n{n}"
        settings = power or {"bmc": f"{lab.switch_key}-{name}", "password": "s3cret-bmc-pw"}
        lab.call("admin_a", "POST", "/nodes", {
            "name": name, "site": lab.site, "owner": "org-a", "resource_class": "gpu",
            "power_driver": power_driver, "power_settings": settings}, expect=201)
        lab.call("admin_a", "POST", f"/nodes/{name}/nics", {
            "name": "eth0", "mac": f"52:54:00:aa:00:{n:02x}", "switch": lab.switch,
            "port": port}, expect=201)
        lab.nodes.append(name)
    lab.drain()  # cabling a NIC isolates its port
    return lab


def offer_and_lease(lab: Lab, node: str, project_side: str = "b",
                    hours: int = 4) -> dict[str, Any]:
    """The owner offers ``node`` to everyone; the PI of proj-<side> leases it from now; the
    lease job starts it. The lease."""
    ends = utcnow() + timedelta(hours=hours)
    offer = lab.call("admin_a", "POST", "/offers", {
        "node": node, "ends_at": (ends + timedelta(days=1)).isoformat()}, expect=201)
    lease = lab.call(f"pi_{project_side}", "POST", "/leases", {
        "offer": offer["id"], "project": lab.world.project_ids[project_side],
        "ends_at": ends.isoformat()}, expect=201)
    lab.move_leases()
    started: dict[str, Any] = lab.call(f"pi_{project_side}", "GET", f"/leases/{lease['id']}",
                                       expect=200)
    assert started["state"] == "active", started
    return started
