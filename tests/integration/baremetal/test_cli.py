"""``ocx`` for bare metal against the real API over HTTP: an owner lends a node, a lessee
leases, networks and powers it, then gives it back."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from typer.testing import Result

from ocx.drivers.power.fake import fake_machine
from ocx.drivers.switch.fake import fake_switch
from tests.integration.baremetal.support import Lab
from tests.integration.cli.conftest import Run


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@contextmanager
def workers(lab: Lab) -> Iterator[None]:
    """Run operations in the background while a command waits for them."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(0.05):
            lab.drain()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(10)


def test_an_owner_lends_and_a_lessee_leases_from_the_cli(ocx: Run, lab: Lab) -> None:
    world = lab.world
    admin, pi = world["admin_a"].token, world["pi_b"].token
    registered = ocx("node", "register", "n9", "--site", lab.site, "--owner", "org-a",
                     "--resource-class", "gpu", "--power-driver", "fake",
                     "--power-setting", "bmc=cli-n9", "--power-setting", "delay_s=0",
                     "--bmc-password-stdin", "-o", "json", token=admin, input="hunter2-bmc\n")
    node = _json(registered)
    assert node["power_settings"] == {"bmc": "cli-n9", "delay_s": 0.0, "password": "***",
                                      "username": "admin", "expected_password": None,
                                      "fail": "never"}
    _json(ocx("switch", "port", "add", lab.switch, "p9", "-o", "json", token=admin))
    _json(ocx("node", "nic", "add", "n9", "eth0", "--mac", "52:54:00:ee:00:09", "--switch",
              lab.switch, "--port", "p9", "-o", "json", token=admin))
    lab.drain()  # cabling it isolated the port
    offer = _json(ocx("offer", "create", "--node", "n9", "--end", "+2d", "-o", "json",
                      token=admin))
    listing = ocx("offer", "list", token=pi)
    assert listing.exit_code == 0 and "n9" in listing.stdout
    network = _json(ocx("network", "create", "blue", "--project", "org-b:proj-b", "--site",
                        lab.site, "-o", "json", token=pi))
    lease = _json(ocx("lease", "create", "--offer", offer["id"], "--project", "org-b:proj-b",
                      "--end", "+4h", "-o", "json", token=pi))
    clash = ocx("lease", "create", "--offer", offer["id"], "--project", "org-b:proj-b",
                "--end", "+1h", token=pi)
    assert clash.exit_code == 1 and lease["id"] in clash.stderr
    lab.move_leases()
    connect = _json(ocx("node", "connect", "n9", "--nic", "eth0", "--network", "blue",
                        "--no-wait", "-o", "json", token=pi))
    assert connect["state"] == "pending"
    lab.drain()
    assert fake_switch(lab.switch_key).ports["p9"].access_vlan == network["vlan"]
    with workers(lab):
        powered = _json(ocx("node", "power", "on", "n9", "-o", "json", token=pi))
    assert powered["state"] == "done" and powered["result"] == {"power_state": "on"}
    assert fake_machine("cli-n9").power.value == "on"
    owner_try = ocx("node", "power", "off", "n9", "--no-wait", token=admin)
    assert owner_try.exit_code == 1 and "may not node power" in owner_try.stderr
    shown = ocx("node", "show", "n9", token=pi)
    assert ["lessee", "org-b:proj-b"] in [line.split() for line in shown.stdout.splitlines()]
    ended = _json(ocx("lease", "cancel", lease["id"], "-o", "json", token=pi))
    assert ended["state"] == "ending"
    lab.drain()
    assert _json(ocx("lease", "show", lease["id"], "-o", "json", token=pi))["state"] == "expired"
    assert fake_machine("cli-n9").power.value == "off"
    assert fake_switch(lab.switch_key).ports["p9"].isolated
