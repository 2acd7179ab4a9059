"""Power through a real Redfish service (sushy-tools' emulator): a lessee powers its leased
node and picks its boot device through the journal; a dead BMC fails the operation with
the reason and flags the node."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from ocx.runtime import Runtime
from tests.integration.baremetal.support import build_lab, offer_and_lease
from tests.servers.redfish import Redfish, free_port
from tests.support.world import World

pytestmark = pytest.mark.baremetal


def _system(redfish: Redfish, system: str) -> dict[str, object]:
    answer = httpx.get(f"{redfish.url}/redfish/v1/Systems/{system}", timeout=5,
                       auth=(redfish.username, redfish.password))
    answer.raise_for_status()
    body: dict[str, object] = answer.json()
    return body


def test_a_lessee_powers_its_node_through_redfish(client: TestClient, world: World,
                                                  runtime: Runtime, redfish: Redfish) -> None:
    system = redfish.systems[1]
    lab = build_lab(client, world, runtime, nodes=1, power_driver="redfish", power={
        "address": redfish.url, "system_id": system, "username": redfish.username,
        "password": redfish.password, "timeout_s": 5})
    assert lab.node("n1", "admin_a")["power_settings"]["password"] == "***"
    offer_and_lease(lab, "n1")
    for action, expected in (("off", "Off"), ("on", "On"), ("cycle", "On"), ("off", "Off")):
        op = lab.call("pi_b", "POST", "/nodes/n1/power", {"action": action}, expect=202)
        lab.drain()
        assert lab.operation(op["id"])["state"] == "done", lab.operation(op["id"])
        assert _system(redfish, system)["PowerState"] == expected
    op = lab.call("member_b", "POST", "/nodes/n1/boot-device", {"device": "pxe"}, expect=202)
    lab.drain()
    boot = _system(redfish, system)["Boot"]
    assert isinstance(boot, dict) and boot["BootSourceOverrideTarget"] == "Pxe"
    assert boot["BootSourceOverrideEnabled"] == "Continuous"
    lab.check_power("n1", "pi_b", "off", "pxe")


def test_an_unreachable_bmc_fails_with_the_reason_and_flags_the_node(
        client: TestClient, world: World, runtime: Runtime, redfish: Redfish) -> None:
    lab = build_lab(client, world, runtime, nodes=1, power_driver="redfish", power={
        "address": f"http://127.0.0.1:{free_port()}", "system_id": redfish.systems[2],
        "username": redfish.username, "password": redfish.password, "timeout_s": 2})
    op = lab.call("admin_a", "POST", "/nodes/n1/power", {"action": "on"}, expect=202)
    lab.drain()
    failed = lab.operation(op["id"])
    assert failed["state"] == "failed"
    assert "is unreachable: connection refused" in failed["last_error"]
    node = lab.node("n1", "admin_a")
    assert "is unreachable: connection refused" in node["power_error"]
    assert node["busy_with"] is None  # a failed operation frees the node
    # A wrong password is refused at once, without retries.
    lab.call("admin_a", "PATCH", "/nodes/n1", {"power_settings": {
        "address": redfish.url, "password": "not-the-password"}}, expect=200)
    op = lab.call("admin_a", "POST", "/nodes/n1/power", {"action": "on"}, expect=202)
    lab.drain()
    refused = lab.operation(op["id"])
    assert refused["state"] == "failed" and refused["attempts"] == 1
    assert "refused the node's credentials (HTTP 401)" in refused["last_error"]


def test_a_lessee_learns_why_power_failed_but_not_the_bmc_address_or_account(
        client: TestClient, world: World, runtime: Runtime, redfish: Redfish) -> None:
    port = free_port()
    lab = build_lab(client, world, runtime, nodes=1, power_driver="redfish", power={
        "address": f"http://127.0.0.1:{port}", "system_id": redfish.systems[2],
        "username": redfish.username, "password": redfish.password, "timeout_s": 2})
    offer_and_lease(lab, "n1")
    op = lab.call("pi_b", "POST", "/nodes/n1/power", {"action": "on"}, expect=202)
    lab.drain()
    seen = [lab.call("pi_b", "GET", f"/operations/{op['id']}", expect=200),
            lab.node("n1", "pi_b")]
    assert seen[0]["state"] == "failed"
    assert "is unreachable" in seen[0]["last_error"] and "is unreachable" in seen[1]["power_error"]
    assert seen[1]["power_settings"] is None  # the lessee never sees the BMC settings
    for secret in (str(port), redfish.username, redfish.systems[2]):
        assert secret not in str(seen), secret
    # A refused password: the reason, still without the account.
    lab.call("operator", "PATCH", "/nodes/n1", {"power_settings": {  # leased: not the owner
        "address": redfish.url, "password": "not-the-password"}}, expect=200)
    op = lab.call("pi_b", "POST", "/nodes/n1/power", {"action": "on"}, expect=202)
    lab.drain()
    refused = lab.call("pi_b", "GET", f"/operations/{op['id']}", expect=200)
    assert "refused the node's credentials (HTTP 401)" in refused["last_error"]
    for secret in (redfish.url, redfish.username, "not-the-password"):
        assert secret not in str([refused, lab.node("n1", "pi_b")]), secret
