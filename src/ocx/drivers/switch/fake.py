"""A switch for tests and the demo: port configurations kept in this process's memory.

Instances with the same ``name`` share one switch, because the worker builds a new
driver for every operation. Each :meth:`FakeSwitch.apply` is one "session", counted,
so tests can tell batched changes from one-by-one ones.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field

from ocx.drivers.base import Driver
from ocx.drivers.switch.base import PortConfig, SwitchDriver
from ocx.errors import DriverError, PermanentDriverError


@dataclass
class FakeSwitchState:
    """One fake switch: its ports and how many sessions it has seen."""

    ports: dict[str, PortConfig] = field(default_factory=dict)
    sessions: int = 0
    batches: list[list[PortConfig]] = field(default_factory=list)


_SWITCHES: dict[str, FakeSwitchState] = {}
_LOCK = threading.Lock()


def fake_switch(name: str) -> FakeSwitchState:
    """The shared state of the fake switch called ``name`` (created empty on first use)."""
    with _LOCK:
        return _SWITCHES.setdefault(name, FakeSwitchState())


def forget_fake_switches() -> None:
    """Drop every fake switch (between tests)."""
    with _LOCK:
        _SWITCHES.clear()


class FakeSwitch(SwitchDriver):
    """Keeps port configurations in memory instead of configuring a switch."""

    class Settings(Driver.Settings):
        name: str = Field(default="fake", min_length=1, max_length=100,
                          description="switches with the same name share their state")
        ports: list[str] = Field(default_factory=list, max_length=10000,
                                 description="the ports it has (empty: any name)")
        delay_s: float = Field(default=0.0, ge=0, le=60,
                               description="pretend every session takes this long")
        fail: Literal["never", "temporary", "permanent"] = Field(
            default="never", description="make every call fail, to demo retries and errors")

    settings: Settings

    def _check(self) -> FakeSwitchState:
        if self.settings.delay_s:
            time.sleep(self.settings.delay_s)
        if self.settings.fail == "temporary":
            raise DriverError(f"fake switch {self.settings.name} is unreachable (as configured)")
        if self.settings.fail == "permanent":
            raise PermanentDriverError(f"fake switch {self.settings.name} refuses (as configured)")
        return fake_switch(self.settings.name)

    def _known(self, port: str) -> None:
        if self.settings.ports and port not in self.settings.ports:
            raise PermanentDriverError(f"fake switch {self.settings.name} has no port {port!r}")

    def apply(self, configs: Sequence[PortConfig]) -> None:
        """Set every port at once (see :meth:`SwitchDriver.apply`)."""
        state = self._check()
        for config in configs:
            self._known(config.port)
        with _LOCK:
            state.sessions += 1
            state.batches.append(list(configs))
            for config in configs:
                state.ports[config.port] = config

    def read_port(self, port: str) -> PortConfig:
        """The port's configuration; a port never set is isolated."""
        state = self._check()
        self._known(port)
        with _LOCK:
            return state.ports.get(port, PortConfig(port))
