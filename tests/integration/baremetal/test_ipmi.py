"""Power through a real IPMI BMC (OpenIPMI's ipmi_sim): a lessee powers its leased node and
picks its boot device through the journal; a BMC's refusal fails the operation at once,
with the reason, and flags the node; the password never shows."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from ocx.runtime import Runtime
from tests.integration.baremetal.support import Lab, build_lab, offer_and_lease
from tests.servers.ipmi import Ipmi
from tests.support.world import World

pytestmark = pytest.mark.baremetal


def _ipmi_lab(client: TestClient, world: World, runtime: Runtime, ipmi: Ipmi) -> Lab:
    lab = build_lab(client, world, runtime, nodes=1, power_driver="ipmi",
                    power=ipmi.settings())
    lab.call("admin_a", "POST", "/nodes/n1/power", {"action": "off"}, expect=202)
    lab.drain()
    assert ipmi.power() == "0"
    return lab


def test_a_lessee_powers_its_node_through_ipmi(client: TestClient, world: World,
                                               runtime: Runtime, ipmi: Ipmi,
                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    lab = _ipmi_lab(client, world, runtime, ipmi)
    assert lab.node("n1", "admin_a")["power_settings"]["password"] == "***"
    offer_and_lease(lab, "n1")
    resets = ipmi.resets()
    for action, expected in (("on", "1"), ("on", "1"), ("cycle", "1"), ("off", "0")):
        op = lab.call("pi_b", "POST", "/nodes/n1/power", {"action": action}, expect=202)
        lab.drain()
        assert lab.operation(op["id"])["state"] == "done", lab.operation(op["id"])
        assert ipmi.power() == expected, action
    assert ipmi.resets() == resets + 1  # cycling a node that is on resets it
    lab.call("member_b", "POST", "/nodes/n1/boot-device", {"device": "pxe"}, expect=202)
    lab.drain()
    assert ipmi.boot() == "pxe"
    lab.check_power("n1", "pi_b", "off", "pxe")
    assert ipmi.password not in caplog.text


def test_a_refusing_bmc_fails_the_operation_at_once_and_flags_the_node(
        client: TestClient, world: World, runtime: Runtime, ipmi: Ipmi) -> None:
    lab = _ipmi_lab(client, world, runtime, ipmi)
    # A session at "user" privilege may read the power state but not change it.
    lab.call("admin_a", "PATCH", "/nodes/n1", {"power_settings": {"privilege": "user"}},
             expect=200)
    op = lab.call("admin_a", "POST", "/nodes/n1/power", {"action": "on"}, expect=202)
    lab.drain()
    refused = lab.operation(op["id"])
    assert (refused["state"], refused["attempts"]) == ("failed", 1)
    assert "refused (completion code 0xd4)" in refused["last_error"]
    assert "completion code 0xd4" in lab.node("n1", "admin_a")["power_error"]
    assert ipmi.power() == "0"
    lab.call("admin_a", "PATCH", "/nodes/n1", {"power_settings": {
        "privilege": "administrator", "password": "not-the-password"}}, expect=200)
    op = lab.call("admin_a", "POST", "/nodes/n1/power", {"action": "on"}, expect=202)
    lab.drain()
    refused = lab.operation(op["id"])
    assert (refused["state"], refused["attempts"]) == ("failed", 1)
    assert ("refused the node's credentials (Incorrect password provided)"
            in refused["last_error"])
    assert "not-the-password" not in str(refused)
    # The right password again: the next success clears the flag.
    lab.call("admin_a", "PATCH", "/nodes/n1", {"power_settings": {"password": ipmi.password}},
             expect=200)
    op = lab.call("admin_a", "POST", "/nodes/n1/power", {"action": "on"}, expect=202)
    lab.drain()
    assert lab.operation(op["id"])["state"] == "done"
    node = lab.node("n1", "admin_a")
    assert (node["power_state"], node["power_error"]) == ("on", None)
    assert ipmi.power() == "1"
