"""The fake BMC: power, boot device, refusals and a dead BMC."""

from __future__ import annotations

import pytest

from ocx.drivers.power import BootDevice, PowerAction, PowerState
from ocx.drivers.power.fake import FakePower, fake_machine, forget_fake_machines
from ocx.errors import DriverError, PermanentDriverError


def _bmc(**settings: object) -> FakePower:
    return FakePower(FakePower.Settings.model_validate({"bmc": "unit", **settings}))


def test_the_fake_machine_follows_its_bmc() -> None:
    forget_fake_machines()
    bmc = _bmc()
    assert bmc.power_state() is PowerState.OFF and bmc.boot_device() is BootDevice.DISK
    assert bmc.set_power(PowerAction.CYCLE) is PowerState.ON
    bmc.set_boot_device(BootDevice.PXE)
    assert (fake_machine("unit").power, _bmc().boot_device()) == (PowerState.ON, BootDevice.PXE)
    assert fake_machine("unit").calls[-1] == "boot_device"
    forget_fake_machines()


def test_a_dead_or_refusing_bmc() -> None:
    with pytest.raises(DriverError, match="unreachable") as dead:
        _bmc(fail="unreachable").power_state()
    assert not isinstance(dead.value, PermanentDriverError)
    with pytest.raises(PermanentDriverError, match="refused the node's credentials"):
        _bmc(expected_password="right", password="wrong").power_state()
    assert _bmc(expected_password="right", password="right").power_state() in PowerState
