"""Isolation through the API with fake switches and BMCs: who may connect what, the journal,
the per-node lock, per-switch batching, and nothing half-configured after a refusal."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from ocx.domain.baremetal.models import NetworkAttachment, PortChange
from ocx.domain.operations.models import Operation
from ocx.drivers.power.fake import fake_machine
from ocx.drivers.switch.base import PortConfig
from ocx.drivers.switch.fake import fake_switch
from ocx.workers.operations import execute_operation
from tests.integration.baremetal.support import Lab, offer_and_lease


def _network(lab: Lab, who: str, name: str, side: str) -> dict[str, object]:
    created: dict[str, object] = lab.call(who, "POST", "/networks", {
        "name": name, "project": lab.world.project_ids[side], "site": lab.site}, expect=201)
    return created


def test_a_lessee_connects_its_node_and_the_switch_follows(lab: Lab) -> None:
    lease = offer_and_lease(lab, "n1")
    net = _network(lab, "pi_b", "blue", "b")
    op = lab.call("member_b", "POST", "/nodes/n1/connect", {"nic": "eth0", "network": "blue"},
                  expect=202)
    assert op["kind"] == "baremetal.node.network" and op["state"] == "pending"
    shown = lab.node("n1", "member_b")
    assert shown["busy_with"] == op["id"] and shown["lessee"] == "org-b:proj-b"
    assert shown["nics"][0]["networks"][0]["state"] == "attaching"
    lab.drain()
    assert lab.operation(op["id"])["state"] == "done"
    assert fake_switch(lab.switch_key).ports["p1"] == PortConfig("p1", access_vlan=net["vlan"])
    shown = lab.node("n1", "member_b")
    assert shown["busy_with"] is None
    assert [(n["network"], n["state"]) for n in shown["nics"][0]["networks"]] == [
        ("blue", "attached")]
    assert lease["node"] == "n1"


def test_only_the_lessee_touches_a_leased_node(lab: Lab) -> None:
    offer_and_lease(lab, "n1")
    _network(lab, "pi_b", "blue", "b")
    _network(lab, "pi_a", "red", "a")
    # The owner is shut out while the lease runs; so is any other project.
    refused = lab.call("admin_a", "POST", "/nodes/n1/power", {"action": "on"}, expect=403)
    assert refused["error"]["type"] == "forbidden"
    lab.call("member_a", "POST", "/nodes/n1/connect", {"nic": "eth0", "network": "red"},
             expect=403)
    lab.call("outsider", "POST", "/nodes/n1/detach", {"nic": "eth0"}, expect=403)
    # The lessee may not bridge its node into another project's network either (which it
    # does not even see: 404, see below).
    lab.call("pi_b", "POST", "/nodes/n1/connect",
             {"nic": "eth0", "network": f"{lab.world.project_ids['a']}/red"}, expect=404)
    # A node nobody leases belongs to its owner: a project cannot use it.
    lab.call("pi_b", "POST", "/nodes/n2/power", {"action": "on"}, expect=403)
    lab.call("admin_a", "POST", "/nodes/n2/power", {"action": "on"}, expect=202)


def test_one_operation_at_a_time_per_node(lab: Lab) -> None:
    offer_and_lease(lab, "n1")
    _network(lab, "pi_b", "blue", "b")
    first = lab.call("pi_b", "POST", "/nodes/n1/power", {"action": "on"}, expect=202)
    busy = lab.call("pi_b", "POST", "/nodes/n1/connect", {"nic": "eth0", "network": "blue"},
                    expect=409)
    assert first["id"] in busy["error"]["message"]
    lab.drain()
    lab.call("pi_b", "POST", "/nodes/n1/connect", {"nic": "eth0", "network": "blue"},
             expect=202)


def test_power_and_boot_device_go_through_the_bmc(lab: Lab) -> None:
    offer_and_lease(lab, "n1")
    machine = fake_machine(f"{lab.switch_key}-n1")
    for action, expected in (("on", "on"), ("cycle", "on"), ("status", "on"), ("off", "off")):
        op = lab.call("pi_b", "POST", "/nodes/n1/power", {"action": action}, expect=202)
        lab.drain()
        assert lab.operation(op["id"])["result"] == {"power_state": expected}
    op = lab.call("pi_b", "POST", "/nodes/n1/boot-device", {"device": "pxe"}, expect=202)
    lab.drain()
    assert lab.operation(op["id"])["state"] == "done"
    assert machine.boot.value == "pxe" and machine.power.value == "off"
    shown = lab.node("n1", "pi_b")
    assert (shown["power_state"], shown["boot_device"], shown["power_error"]) == (
        "off", "pxe", None)


def test_bmc_unreachable_fails_the_operation_and_flags_the_node(lab: Lab) -> None:
    lab.call("admin_a", "PATCH", "/nodes/n2", {"power_settings": {"fail": "unreachable"}},
             expect=200)
    op = lab.call("admin_a", "POST", "/nodes/n2/power", {"action": "on"}, expect=202)
    lab.drain()
    failed = lab.operation(op["id"])
    assert failed["state"] == "failed" and failed["attempts"] == failed["max_attempts"]
    assert "unreachable" in failed["last_error"]
    assert "unreachable" in lab.node("n2")["power_error"]
    # The next success clears the flag.
    lab.call("admin_a", "PATCH", "/nodes/n2", {"power_settings": {"fail": "never"}}, expect=200)
    lab.call("admin_a", "POST", "/nodes/n2/power", {"action": "status"}, expect=202)
    lab.drain()
    assert lab.node("n2")["power_error"] is None


def test_a_refused_port_leaves_nothing_half_configured(lab: Lab) -> None:
    # The switch knows only p2: n1's port p1 is refused, n2's change in the same batch lands.
    lab.call("admin_a", "PATCH", f"/switches/{lab.switch}",
             {"settings": {"ports": ["p2"]}}, expect=200)
    _network(lab, "pi_a", "red", "a")
    first = lab.call("admin_a", "POST", "/nodes/n1/connect", {"nic": "eth0", "network": "red"},
                     expect=202)
    second = lab.call("admin_a", "POST", "/nodes/n2/connect", {"nic": "eth0", "network": "red"},
                      expect=202)
    lab.drain()
    assert lab.operation(first["id"])["state"] == "failed"
    assert "no port 'p1'" in lab.operation(first["id"])["last_error"]
    assert lab.operation(second["id"])["state"] == "done"
    assert lab.node("n1")["nics"][0]["networks"] == []
    assert [n["state"] for n in lab.node("n2")["nics"][0]["networks"]] == ["attached"]
    ports = fake_switch(lab.switch_key).ports
    assert ports["p1"].isolated and not ports["p2"].isolated  # p1 as it was when cabled


def test_port_changes_of_one_switch_are_applied_in_one_session(lab: Lab) -> None:
    _network(lab, "pi_a", "red", "a")
    state = fake_switch(lab.switch_key)
    sessions_before = state.sessions  # cabling the NICs isolated their ports
    ops = [lab.call("admin_a", "POST", f"/nodes/{node}/connect",
                    {"nic": "eth0", "network": "red"}, expect=202)["id"] for node in lab.nodes]
    lab.drain()
    assert state.sessions == sessions_before + 1 and len(state.batches[-1]) == 2
    results = [lab.operation(op)["result"]["switches"] for op in ops]
    appliers = {applier for result in results for switch in result.values()
                for applier in switch["applied_by"]}
    assert len(appliers) == 1 and appliers <= set(ops)
    with lab.runtime.sessions() as session:
        states = session.scalars(select(PortChange.state)).all()
        assert {s.value for s in states} == {"done"}


def test_detach_removes_the_vlan_from_the_port(lab: Lab) -> None:
    _network(lab, "pi_a", "red", "a")
    tagged = _network(lab, "pi_a", "green", "a")
    lab.call("admin_a", "POST", "/nodes/n1/connect", {"nic": "eth0", "network": "red"},
             expect=202)
    lab.drain()
    lab.call("admin_a", "POST", "/nodes/n1/connect",
             {"nic": "eth0", "network": "green", "mode": "tagged"}, expect=202)
    lab.drain()
    port = fake_switch(lab.switch_key).ports["p1"]
    assert port.trunk_vlans == {tagged["vlan"]} and port.access_vlan is not None
    lab.call("admin_a", "POST", "/nodes/n1/detach", {"nic": "eth0", "network": "red"},
             expect=202)
    lab.drain()
    assert fake_switch(lab.switch_key).ports["p1"] == PortConfig(
        "p1", trunk_vlans=frozenset({tagged["vlan"]}))
    lab.call("admin_a", "POST", "/nodes/n1/detach", {"nic": "eth0"}, expect=202)
    lab.drain()
    assert fake_switch(lab.switch_key).ports["p1"].isolated
    with lab.runtime.sessions() as session:
        assert session.scalars(select(NetworkAttachment)).all() == []


def test_connect_refuses_what_makes_no_sense(lab: Lab) -> None:
    _network(lab, "pi_a", "red", "a")
    _network(lab, "pi_a", "blue", "a")
    lab.call("admin_a", "POST", "/nodes/n1/connect", {"nic": "eth0", "network": "red"},
             expect=202)
    lab.drain()
    again = lab.call("admin_a", "POST", "/nodes/n1/connect", {"nic": "eth0", "network": "red"},
                     expect=409)
    assert "already carries" in again["error"]["message"]
    second_access = lab.call("admin_a", "POST", "/nodes/n1/connect",
                             {"nic": "eth0", "network": "blue"}, expect=409)
    assert "untagged" in second_access["error"]["message"]
    lab.call("admin_a", "POST", "/nodes/n1/connect", {"nic": "eth9", "network": "blue"},
             expect=404)
    lab.call("admin_a", "POST", "/nodes/n1/detach", {"nic": "eth0", "network": "blue"},
             expect=409)
    with lab.runtime.sessions() as session:  # refused requests journal nothing
        connects = [op for op in session.scalars(select(Operation)) if "connect" in op.payload]
        assert len(connects) == 1


def test_another_projects_network_is_not_found_rather_than_forbidden(lab: Lab) -> None:
    offer_and_lease(lab, "n1")
    _network(lab, "pi_a", "red", "a")
    other = lab.world.project_ids["a"]
    hidden = lab.call("pi_b", "POST", "/nodes/n1/connect",
                      {"nic": "eth0", "network": f"{other}/red"}, expect=404)
    # Exactly what a network (or project) that does not exist answers: nothing revealed.
    for missing in (f"{other}/green", f"{uuid.uuid4()}/red"):
        assert lab.call("pi_b", "POST", "/nodes/n1/connect",
                        {"nic": "eth0", "network": missing}, expect=404) == hidden
    # The owner's admins cannot reach into another organization's networks either.
    _network(lab, "pi_b", "blue", "b")
    lab.call("admin_a", "POST", "/nodes/n2/connect",
             {"nic": "eth0", "network": f"{lab.world.project_ids['b']}/blue"}, expect=404)


def test_a_retried_operation_waits_for_the_node(lab: Lab) -> None:
    machine = fake_machine(f"{lab.switch_key}-n2")
    lab.call("admin_a", "PATCH", "/nodes/n2", {"power_settings": {"fail": "unreachable"}},
             expect=200)
    failed = lab.call("admin_a", "POST", "/nodes/n2/power", {"action": "on"}, expect=202)
    lab.drain()
    assert lab.operation(failed["id"])["state"] == "failed"
    lab.call("admin_a", "PATCH", "/nodes/n2", {"power_settings": {"fail": "never"}}, expect=200)
    holder = lab.call("admin_a", "POST", "/nodes/n2/power", {"action": "off"}, expect=202)
    lab.call("operator", "POST", f"/operations/{failed['id']}/retry", expect=202)
    calls = len(machine.calls)
    # The retried operation may not run while another holds the node.
    execute_operation(lab.runtime.tasks.worker_context, uuid.UUID(failed["id"]))
    assert len(machine.calls) == calls
    retried = lab.operation(failed["id"])
    assert retried["state"] == "pending" and holder["id"] in retried["last_error"]
    assert lab.node("n2")["busy_with"] == holder["id"]
    lab.drain()
    assert machine.calls[calls:] == ["set_power:off", "set_power:on"]
    assert lab.operation(failed["id"])["state"] == "done"
