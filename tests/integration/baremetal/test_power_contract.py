"""The power driver contract, for the fake, Redfish (sushy against sushy-tools) and IPMI
(pyghmi against OpenIPMI's ipmi_sim)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from ocx.drivers.power import BootDevice, PowerAction, PowerDriver, PowerState
from ocx.drivers.power.fake import forget_fake_machines
from ocx.drivers.registry import DriverRegistry
from ocx.errors import DriverError, PermanentDriverError
from tests.servers.ipmi import Ipmi, free_udp_port
from tests.servers.redfish import Redfish, free_port

pytestmark = pytest.mark.baremetal


@dataclass
class Subject:
    """A driver under test, one with a wrong password, and one whose BMC is not there."""

    driver: PowerDriver
    wrong_password: PowerDriver
    unreachable: PowerDriver


@pytest.fixture(params=["fake", "redfish", "ipmi"])
def subject(request: pytest.FixtureRequest) -> Iterator[Subject]:
    registry = DriverRegistry()
    if request.param == "fake":
        bmc = f"contract-{uuid.uuid4().hex[:6]}"
        good: dict[str, object] = {"bmc": bmc, "password": "pw-0123",
                                   "expected_password": "pw-0123"}
        yield Subject(registry.create(PowerDriver, "fake", good),
                      registry.create(PowerDriver, "fake", {**good, "password": "nope"}),
                      registry.create(PowerDriver, "fake", {"bmc": bmc, "fail": "unreachable"}))
        forget_fake_machines()
        return
    if request.param == "ipmi":
        ipmi: Ipmi = request.getfixturevalue("ipmi")
        yield Subject(registry.create(PowerDriver, "ipmi", ipmi.settings()),
                      registry.create(PowerDriver, "ipmi", ipmi.settings(password="nope")),
                      registry.create(PowerDriver, "ipmi", ipmi.settings(port=free_udp_port())))
        return
    redfish: Redfish = request.getfixturevalue("redfish")
    good = {"address": redfish.url, "system_id": redfish.systems[0],
            "username": redfish.username, "password": redfish.password, "timeout_s": 5}
    yield Subject(registry.create(PowerDriver, "redfish", good),
                  registry.create(PowerDriver, "redfish", {**good, "password": "nope"}),
                  registry.create(PowerDriver, "redfish", {
                      **good, "address": f"http://127.0.0.1:{free_port()}"}))


def test_power_on_off_and_cycle(subject: Subject) -> None:
    bmc = subject.driver
    assert bmc.set_power(PowerAction.OFF) is PowerState.OFF
    assert bmc.power_state() is PowerState.OFF
    assert bmc.set_power(PowerAction.OFF) is PowerState.OFF  # again: harmless
    assert bmc.set_power(PowerAction.ON) is PowerState.ON
    assert bmc.power_state() is PowerState.ON
    assert bmc.set_power(PowerAction.CYCLE) is PowerState.ON
    assert bmc.power_state() is PowerState.ON
    bmc.set_power(PowerAction.OFF)
    assert bmc.set_power(PowerAction.CYCLE) is PowerState.ON  # cycling a node that is off
    assert bmc.power_state() is PowerState.ON


def test_boot_device(subject: Subject) -> None:
    subject.driver.set_boot_device(BootDevice.PXE)
    assert subject.driver.boot_device() is BootDevice.PXE
    subject.driver.set_boot_device(BootDevice.DISK, persistent=False)
    assert subject.driver.boot_device() is BootDevice.DISK


def test_refused_credentials_are_permanent(subject: Subject) -> None:
    with pytest.raises(PermanentDriverError, match="refused the node's credentials"):
        subject.wrong_password.power_state()


def test_an_unreachable_bmc_is_a_temporary_error(subject: Subject) -> None:
    with pytest.raises(DriverError, match="unreachable") as raised:
        subject.unreachable.set_power(PowerAction.ON)
    assert not isinstance(raised.value, PermanentDriverError)
