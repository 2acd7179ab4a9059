"""Bare-metal fixtures: a lab of fake switches and BMCs on the shared world (both databases),
and the real servers: Open vSwitch with namespace nodes, a Redfish BMC emulator and an IPMI
BMC simulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from ocx.drivers.power.fake import forget_fake_machines
from ocx.drivers.switch.fake import forget_fake_switches
from ocx.runtime import Runtime
from tests.integration.baremetal.support import Lab, build_lab

# The CLI tests here use the real app served over HTTP, as in tests/integration/cli.
from tests.integration.cli.conftest import config_file, ocx, server_url  # noqa: F401
from tests.servers.ipmi import Ipmi, ipmi_simulator
from tests.servers.ovs import Ovs, open_vswitch
from tests.servers.redfish import Redfish, redfish_emulator
from tests.support.world import World


@pytest.fixture
def lab(client: TestClient, world: World, runtime: Runtime) -> Iterator[Lab]:
    """Site ``site-1`` (VLANs 100-109), fake switch ``sw1``, nodes n1 and n2 of org-a."""
    yield build_lab(client, world, runtime)
    forget_fake_switches()
    forget_fake_machines()


@pytest.fixture(scope="session")
def ovs_server() -> Iterator[Ovs]:
    """A real Open vSwitch (userspace datapath) with one bridge, for the whole run."""
    with open_vswitch() as ovs:
        yield ovs


@pytest.fixture
def ovs(ovs_server: Ovs) -> Iterator[Ovs]:
    """The Open vSwitch, with the namespace nodes a test adds removed after it."""
    yield ovs_server
    ovs_server.remove_nodes()


@pytest.fixture(scope="session")
def redfish() -> Iterator[Redfish]:
    """sushy-tools' Redfish emulator with four fake systems, for the whole run."""
    with redfish_emulator(count=4) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def ipmi() -> Iterator[Ipmi]:
    """OpenIPMI's ipmi_sim: one IPMI 2.0 BMC over UDP, for the whole run."""
    with ipmi_simulator() as simulator:
        yield simulator
