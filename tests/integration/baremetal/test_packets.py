"""Isolation proven with packets: nodes are network namespaces cabled to a real Open vSwitch,
and OCX (API, journal, workers, OVS driver) decides who can ping whom.

Two projects lease nodes: nodes on the same project network ping each other; a node of
another project cannot reach them; connecting a node to another network moves it; when a
lease ends the node is detached and can no longer reach its old network.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from ocx.drivers.registry import DriverRegistry
from ocx.drivers.switch import SwitchDriver
from ocx.persistence.base import utcnow
from ocx.runtime import Runtime
from tests.integration.baremetal.support import Lab
from tests.servers.ovs import Ovs
from tests.support.world import World

pytestmark = pytest.mark.baremetal
NODES = {"n1": 1, "n2": 2, "n3": 3, "n4": 4}  # node -> host part of 10.99.0.x
PING_ROUNDS = 3


def _reaches(ovs: Ovs, source: str, target: str) -> bool:
    """Whether ``source`` pings ``target``, asking again a few times: on a loaded machine
    the userspace datapath can miss a whole round (a "no" is still asked only once)."""
    return any(ovs.reaches(source, NODES[target]) for _ in range(PING_ROUNDS))


def _ovs_lab(client: TestClient, world: World, runtime: Runtime, ovs: Ovs) -> Lab:
    """The owner (org-a) registers its OVS switch and four nodes cabled to it."""
    lab = Lab(client, world, runtime, switch="ovs1")
    lab.call("operator", "POST", "/sites", {"name": lab.site, "vlan_min": 100,
                                            "vlan_max": 199}, expect=201)
    lab.call("admin_a", "POST", "/switches", {
        "name": lab.switch, "site": lab.site, "owner": "org-a", "driver": "ovs",
        "settings": {"db": ovs.db, "bridge": ovs.bridge}}, expect=201)
    for name, host in NODES.items():
        port = ovs.add_node(name, host)
        lab.call("admin_a", "POST", f"/switches/{lab.switch}/ports", {"names": [port]},
                 expect=201)
        lab.call("admin_a", "POST", "/nodes", {
            "name": name, "site": lab.site, "owner": "org-a", "resource_class": "gpu",
            "power_driver": "fake", "power_settings": {"bmc": f"packets-{name}"}}, expect=201)
        lab.call("admin_a", "POST", f"/nodes/{name}/nics", {
            "name": "eth0", "mac": f"52:54:00:99:00:{host:02x}", "switch": lab.switch,
            "port": port}, expect=201)
        lab.nodes.append(name)
    lab.drain()
    return lab


def _lease(lab: Lab, node: str, side: str, hours: int = 4) -> str:
    offer = lab.call("admin_a", "POST", "/offers", {
        "node": node, "ends_at": (utcnow() + timedelta(days=2)).isoformat()}, expect=201)
    lease = lab.call(f"pi_{side}", "POST", "/leases", {
        "offer": offer["id"], "project": lab.world.project_ids[side],
        "ends_at": (utcnow() + timedelta(hours=hours)).isoformat()}, expect=201)
    return str(lease["id"])


def _connect(lab: Lab, who: str, node: str, network: str) -> None:
    op = lab.call(who, "POST", f"/nodes/{node}/connect", {"nic": "eth0", "network": network},
                  expect=202)
    lab.drain()
    assert lab.operation(op["id"])["state"] == "done", lab.operation(op["id"])


def _detach(lab: Lab, who: str, node: str) -> None:
    op = lab.call(who, "POST", f"/nodes/{node}/detach", {"nic": "eth0"}, expect=202)
    lab.drain()
    assert lab.operation(op["id"])["state"] == "done", lab.operation(op["id"])


def test_leased_nodes_reach_their_project_network_and_nothing_else(
        client: TestClient, world: World, runtime: Runtime, ovs: Ovs) -> None:
    lab = _ovs_lab(client, world, runtime, ovs)
    # Freshly cabled nodes are isolated, even from each other.
    assert not ovs.reaches("n1", NODES["n2"])
    _lease(lab, "n1", "b")
    short = _lease(lab, "n2", "b", hours=1)
    _lease(lab, "n3", "a")
    lab.move_leases()
    for name, side in (("blue", "b"), ("green", "b"), ("red", "a")):
        lab.call(f"pi_{side}", "POST", "/networks", {
            "name": name, "project": lab.world.project_ids[side], "site": lab.site}, expect=201)

    # proj-b's nodes on proj-b's network reach each other.
    _connect(lab, "pi_b", "n1", "blue")
    _connect(lab, "member_b", "n2", "blue")
    assert _reaches(ovs, "n1", "n2") and _reaches(ovs, "n2", "n1")

    # proj-a's node, on proj-a's network (same subnet), reaches neither.
    _connect(lab, "pi_a", "n3", "red")
    assert not ovs.reaches("n3", NODES["n1"]) and not ovs.reaches("n1", NODES["n3"])
    # ...nor may proj-a put its node on proj-b's network (which it does not even see).
    lab.call("pi_a", "POST", "/nodes/n3/connect",
             {"nic": "eth0", "network": f"{lab.world.project_ids['b']}/blue"}, expect=404)
    assert not ovs.reaches("n3", NODES["n2"])

    # Moving n2 to another network moves it: away from n1, and back with it.
    _detach(lab, "pi_b", "n2")
    _connect(lab, "pi_b", "n2", "green")
    assert not ovs.reaches("n1", NODES["n2"])
    _detach(lab, "pi_b", "n1")
    _connect(lab, "pi_b", "n1", "green")
    assert _reaches(ovs, "n1", "n2")

    # The lease of n2 ends (an hour on): it is detached, and cannot reach its old network.
    assert lab.move_leases(utcnow() + timedelta(hours=2)) == 1
    lab.drain()
    assert lab.call("pi_b", "GET", f"/leases/{short}")["state"] == "expired"
    assert not ovs.reaches("n1", NODES["n2"]) and not ovs.reaches("n2", NODES["n1"])
    driver = DriverRegistry().create(SwitchDriver, "ovs", {"db": ovs.db, "bridge": ovs.bridge})
    assert driver.read_port(ovs.port("n2")).isolated
    assert lab.node("n2", "admin_a")["nics"][0]["networks"] == []
    # n1's lease runs on, on its network.
    assert [n["network"] for n in lab.node("n1", "pi_b")["nics"][0]["networks"]] == ["green"]
