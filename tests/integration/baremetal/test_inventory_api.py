"""Inventory through the API: who registers what, sealed BMC passwords, VLAN pools."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select, text

from ocx.domain.audit.models import AuditEvent
from ocx.domain.baremetal.models import Node
from ocx.persistence.sealed import is_sealed
from tests.integration.baremetal.support import Lab

PASSWORD = "s3cret-bmc-pw"


def test_bmc_passwords_are_sealed_masked_and_never_logged(
        lab: Lab, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    shown = lab.node("n1", "admin_a")
    assert shown["power_settings"]["password"] == "***"
    assert lab.node("n1", "pi_b")["power_settings"] is None  # not the owner: no BMC at all
    with lab.runtime.engine.connect() as conn:
        stored = conn.execute(text("SELECT power_settings FROM bm_nodes")).scalars().all()
    for raw in stored:
        settings = raw if isinstance(raw, dict) else json.loads(raw)
        assert is_sealed(settings["password"]) and PASSWORD not in json.dumps(settings)
    with lab.runtime.sessions() as session:
        events = session.scalars(select(AuditEvent)).all()
        assert events and all(PASSWORD not in json.dumps(e.changes) for e in events)
    # The worker opens it: the fake BMC checks the password it is given.
    lab.call("admin_a", "PATCH", "/nodes/n1", {"power_settings": {
        "password": "***", "expected_password": PASSWORD}}, expect=200)
    op = lab.call("admin_a", "POST", "/nodes/n1/power", {"action": "on"}, expect=202)
    lab.drain()
    assert lab.operation(op["id"])["state"] == "done"
    lab.call("admin_a", "PATCH", "/nodes/n1", {"power_settings": {"password": "wrong-pw"}},
             expect=200)
    op = lab.call("admin_a", "POST", "/nodes/n1/power", {"action": "off"}, expect=202)
    lab.drain()
    assert "refused the node's credentials" in lab.operation(op["id"])["last_error"]
    assert PASSWORD not in caplog.text and "wrong-pw" not in caplog.text


def test_owner_admins_register_their_own_inventory_only(lab: Lab) -> None:
    node = {"name": "x1", "site": lab.site, "owner": "org-a", "resource_class": "gpu",
            "power_driver": "fake"}
    lab.call("member_a", "POST", "/nodes", node, expect=403)
    lab.call("admin_b", "POST", "/nodes", node, expect=404)  # org-a is not theirs to see
    lab.call("admin_b", "POST", "/switches", {"name": "swx", "site": lab.site,
                                              "owner": "org-a", "driver": "fake"}, expect=404)
    lab.call("admin_b", "POST", f"/switches/{lab.switch}/ports", {"names": ["p9"]},
             expect=404)
    lab.call("admin_b", "POST", "/nodes/n1/nics", {"name": "eth1", "mac": "52:54:00:bb:00:01"},
             expect=403)
    lab.call("admin_a", "POST", "/nodes", node, expect=201)
    lab.call("admin_a", "POST", "/sites", {"name": "s2", "vlan_min": 1, "vlan_max": 2},
             expect=403)
    # Switches are seen by their owner's admins only.
    assert [s["name"] for s in lab.call("admin_a", "GET", "/switches")["items"]] == ["sw1"]
    assert lab.call("admin_b", "GET", "/switches")["items"] == []


def test_driver_settings_are_validated_by_the_driver(lab: Lab) -> None:
    bad = lab.call("admin_a", "POST", "/switches", {
        "name": "sw2", "site": lab.site, "owner": "org-a", "driver": "ovs",
        "settings": {"db": "nonsense", "bridge": "br0", "password": "x"}}, expect=422)
    message = bad["error"]["message"]
    assert "db:" in message and "password" in message and "nonsense" not in message
    unknown = lab.call("admin_a", "POST", "/nodes", {
        "name": "x2", "site": lab.site, "owner": "org-a", "resource_class": "gpu",
        "power_driver": "teleport"}, expect=422)
    assert "installed: fake" in unknown["error"]["message"]


def test_the_vlan_pool_runs_out_with_a_409(lab: Lab) -> None:
    lab.call("operator", "POST", "/sites", {"name": "small", "vlan_min": 300, "vlan_max": 301},
             expect=201)
    body = {"project": lab.world.project_ids["a"], "site": "small"}
    vlans = [lab.call("pi_a", "POST", "/networks", {**body, "name": f"n{i}"}, expect=201)["vlan"]
             for i in range(2)]
    assert vlans == [300, 301]
    full = lab.call("pi_a", "POST", "/networks", {**body, "name": "n3"}, expect=409)
    assert "VLAN pool of site small (300-301) is exhausted" in full["error"]["message"]
    lab.call("pi_a", "DELETE", f"/networks/{lab.world.project_ids['a']}/n0", expect=204)
    assert lab.call("pi_a", "POST", "/networks", {**body, "name": "n3"}, expect=201)["vlan"] == 300
    assert lab.call("operator", "GET", "/sites/small")["networks"] == 2


def test_networks_belong_to_their_project(lab: Lab) -> None:
    body = {"name": "blue", "project": lab.world.project_ids["a"], "site": lab.site}
    lab.call("member_a", "POST", "/networks", body, expect=403)
    lab.call("pi_b", "POST", "/networks", body, expect=404)
    created = lab.call("manager_a", "POST", "/networks", body, expect=201)
    lab.call("pi_a", "POST", "/networks", body, expect=409)
    assert [n["name"] for n in lab.call("member_a", "GET", "/networks")["items"]] == ["blue"]
    assert lab.call("pi_b", "GET", "/networks")["items"] == []
    lab.call("pi_b", "GET", f"/networks/{created['id']}", expect=404)
    # A network in use cannot go.
    lab.call("admin_a", "POST", "/nodes/n1/connect", {"nic": "eth0", "network": created["id"]},
             expect=202)
    lab.call("pi_a", "DELETE", f"/networks/{created['id']}", expect=409)


def test_deleting_inventory_in_use_is_refused(lab: Lab) -> None:
    lab.call("operator", "DELETE", f"/sites/{lab.site}", expect=409)
    lab.call("admin_a", "DELETE", f"/switches/{lab.switch}", expect=409)
    lab.call("admin_a", "DELETE", f"/switches/{lab.switch}/ports/p1", expect=409)
    lab.call("admin_a", "DELETE", "/nodes/n2/nics/eth0", expect=204)
    lab.call("admin_a", "DELETE", f"/switches/{lab.switch}/ports/p2", expect=204)
    lab.call("admin_a", "DELETE", "/nodes/n2", expect=204)
    with lab.runtime.sessions() as session:
        assert session.scalars(select(Node.name)).all() == ["n1"]


def test_switch_settings_cannot_name_another_program_or_an_option_as_a_port(lab: Lab) -> None:
    body = {"name": "sw2", "site": lab.site, "owner": "org-a", "driver": "ovs"}
    for program in ("/bin/sh", "/usr/bin/python3", "ovs-vsctl; sh", "/tmp/ovs-vsctl.sh"):
        bad = lab.call("admin_a", "POST", "/switches", {**body, "settings": {
            "db": "unix:/run/openvswitch/db.sock", "bridge": "br0", "ovs_vsctl": program}},
            expect=422)
        assert "ovs_vsctl" in bad["error"]["message"]
    lab.call("admin_a", "POST", "/switches", {**body, "settings": {
        "db": "unix:/run/openvswitch/db.sock", "bridge": "br0",
        "ovs_vsctl": "/usr/local/bin/ovs-vsctl"}}, expect=201)
    for name in ("--", "--if-exists", "-p1"):
        lab.call("admin_a", "POST", "/switches/sw2/ports", {"names": [name]}, expect=422)
