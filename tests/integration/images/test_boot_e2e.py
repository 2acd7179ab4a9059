"""End to end: a qemu VM plays a leased node and network-boots into its own clone.

The lessee runs ``ocx node provision n1 --image tiny`` against OCX served over HTTP.
The operation clones the golden image (qcow2), exports the clone with qemu-nbd, sets the
node to PXE and power-cycles it through its BMC, here the test-only ``QemuPower``
(tests/servers/qemu_node.py) whose "power on" starts the VM: a Redfish emulator cannot
start a qemu process, so the test plays the BMC through a driver of its own rather than
watching the fake one. The VM's iPXE NIC ROM gets ``/boot/chain.ipxe`` from qemu's DHCP,
fetches its script from OCX by MAC, boots OCX's kernel and initrd, and mounts the export
as its root; its init prints the marker on the serial console and writes to its disk.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable, Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ocx.config import Settings
from ocx.drivers.power.fake import forget_fake_machines
from ocx.drivers.registry import DriverRegistry, installed_entry_points
from ocx.drivers.switch.fake import forget_fake_switches
from ocx.runtime import Runtime
from tests.integration.baremetal.support import Lab, build_lab, offer_and_lease
from tests.integration.cli import conftest as cli
from tests.integration.images.provision_lab import ImageStore, boot_settings, store_fixture
from tests.servers.qemu_node import (
    MARKER,
    build_boot_files,
    build_root_image,
    stop_all_vms,
    wait_for_console,
)
from tests.support.world import World

pytestmark = pytest.mark.images
# The CLI against the app served by uvicorn, as in tests/integration/cli.
server_url, config_file, ocx = cli.server_url, cli.config_file, cli.ocx
MAC = "52:54:00:aa:00:01"
BOOT_TIMEOUT_S = 300  # ~15 s on an idle machine; TCG slows down a lot under load


def with_qemu_power(group: str) -> Iterable[EntryPoint]:
    """The installed drivers, plus the test-only qemu BMC."""
    yield from installed_entry_points(group)
    if group == "ocx.drivers.power":
        yield EntryPoint("qemu", "tests.servers.qemu_node:QemuPower", group)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Exports advertised as 10.0.2.2: the host's loopback as a qemu user-mode guest sees it."""
    return boot_settings(database_url, tmp_path, boot_files=build_boot_files(),
                         advertise="10.0.2.2")


@pytest.fixture
def store(runtime: Runtime, tmp_path: Path) -> Iterator[ImageStore]:
    """The image store; VMs and exports are stopped afterwards."""
    runtime.drivers = DriverRegistry(with_qemu_power)
    try:
        yield from store_fixture(runtime, tmp_path)
    finally:
        stop_all_vms()


@pytest.fixture
def lab(client: TestClient, world: World, runtime: Runtime, store: ImageStore,
        server_url: str, tmp_path: Path) -> Iterator[Lab]:
    """Node n1 whose BMC starts a VM booting from OCX; leased by proj-b."""
    port = server_url.rsplit(":", 1)[1]
    power = {"folder": str(tmp_path / "vm"), "mac": MAC,
             "boot_url": f"http://10.0.2.2:{port}/boot/chain.ipxe"}
    lab = build_lab(client, world, runtime, nodes=1, power_driver="qemu", power=power)
    offer_and_lease(lab, "n1")
    yield lab
    forget_fake_switches()
    forget_fake_machines()


def clone_was_written(store: ImageStore) -> bool:
    """Whether the node's clone holds data of its own (the golden image stays as it was)."""
    clones = [p for p in (store.folder / "images").glob("n-*.qcow2")]
    assert len(clones) == 1, clones
    mapped = json.loads(subprocess.run(
        ["qemu-img", "map", "-U", "--output=json", str(clones[0])],
        capture_output=True, text=True, check=True).stdout)
    return any(extent["depth"] == 0 and extent["data"] for extent in mapped)


def test_a_leased_node_network_boots_into_its_clone(
        lab: Lab, store: ImageStore, ocx: cli.Run, world: World, tmp_path: Path) -> None:
    golden = store.add_golden("tiny", build_root_image("tiny"))
    golden_file = store.folder / "images" / (golden.backend_ref or "")
    before = golden_file.read_bytes()

    result = ocx("node", "provision", "n1", "--image", "tiny", "--no-wait", "-o", "json",
                 token=world["pi_b"].token)
    assert result.exit_code == 0, result.output
    lab.drain()  # clone, export, PXE, power cycle: the VM starts
    assert lab.operation(json.loads(result.output)["id"])["state"] == "done"

    console = wait_for_console(tmp_path / "vm" / "console.log", MARKER, BOOT_TIMEOUT_S)
    assert "iPXE" in console and f"{MARKER} image=tiny" in console
    assert "ocx-initrd: root nbd://10.0.2.2:" in console
    shown = ocx("node", "disk", "n1", "-o", "json", token=world["pi_b"].token)
    assert json.loads(shown.output)["state"] == "active"
    # The node wrote to its copy-on-write clone; the golden image is untouched.
    wait_for_console(tmp_path / "vm" / "console.log", "reboot: Power down", 30)
    assert clone_was_written(store)
    assert golden_file.read_bytes() == before

    # The lease ends: node off, export stopped, clone removed.
    lease = lab.call("pi_b", "GET", "/leases", node="n1")["items"][0]
    lab.call("pi_b", "POST", f"/leases/{lease['id']}/cancel", expect=200)
    lab.drain()
    assert store.exporter.list_exports() == []
    assert store.files() == {golden_file.name}
