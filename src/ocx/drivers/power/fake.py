"""A BMC for tests and the demo: power state and boot device kept in this process's memory.

Drivers with the same ``bmc`` name share one machine, because the worker builds a new
driver for every operation. ``fail=unreachable`` behaves like a BMC that does not
answer; ``password`` (optional) must match ``expected_password`` when that is set, to
check that sealed passwords arrive intact.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from pydantic import Field, SecretStr

from ocx.drivers.base import Driver
from ocx.drivers.power.base import BootDevice, PowerAction, PowerDriver, PowerState
from ocx.errors import DriverError, PermanentDriverError


@dataclass
class FakeMachine:
    """One fake node as its BMC sees it, and every call it received."""

    power: PowerState = PowerState.OFF
    boot: BootDevice = BootDevice.DISK
    calls: list[str] = field(default_factory=list)


_MACHINES: dict[str, FakeMachine] = {}
_LOCK = threading.Lock()


def fake_machine(name: str) -> FakeMachine:
    """The shared state of the fake BMC called ``name`` (off, booting from disk, at first)."""
    with _LOCK:
        return _MACHINES.setdefault(name, FakeMachine())


def forget_fake_machines() -> None:
    """Drop every fake machine (between tests)."""
    with _LOCK:
        _MACHINES.clear()


class FakePower(PowerDriver):
    """Keeps a machine's power state in memory instead of calling a BMC."""

    class Settings(Driver.Settings):
        secret_destination: ClassVar[frozenset[str] | None] = frozenset({"bmc"})

        bmc: str = Field(default="fake", min_length=1, max_length=100,
                         description="drivers with the same name share one machine")
        username: str = Field(default="admin", max_length=100)
        password: SecretStr | None = Field(default=None, description="sealed at rest")
        expected_password: SecretStr | None = Field(
            default=None, description="if set, a different password is refused")
        delay_s: float = Field(default=0.0, ge=0, le=60)
        fail: Literal["never", "unreachable", "refuse"] = Field(
            default="never", description="behave like a dead BMC, or one refusing the login")

    settings: Settings

    def _machine(self, call: str) -> FakeMachine:
        if self.settings.delay_s:
            time.sleep(self.settings.delay_s)
        if self.settings.fail == "unreachable":
            raise DriverError("the BMC is unreachable: connection timed out")
        expected = self.settings.expected_password
        given = self.settings.password
        if self.settings.fail == "refuse" or (expected is not None and (
                given is None or given.get_secret_value() != expected.get_secret_value())):
            raise PermanentDriverError("the BMC refused the node's credentials")
        machine = fake_machine(self.settings.bmc)
        with _LOCK:
            machine.calls.append(call)
        return machine

    def power_state(self) -> PowerState:
        """The machine's power state."""
        return self._machine("power_state").power

    def set_power(self, action: PowerAction) -> PowerState:
        """Switch the machine (see :meth:`PowerDriver.set_power`)."""
        machine = self._machine(f"set_power:{action.value}")
        with _LOCK:
            machine.power = PowerState.OFF if action is PowerAction.OFF else PowerState.ON
            return machine.power

    def set_boot_device(self, device: BootDevice, persistent: bool = True) -> None:
        """Remember the boot device."""
        machine = self._machine(f"set_boot_device:{device.value}")
        with _LOCK:
            machine.boot = device

    def boot_device(self) -> BootDevice | None:
        """The remembered boot device."""
        return self._machine("boot_device").boot
