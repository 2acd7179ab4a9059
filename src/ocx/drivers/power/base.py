"""The ``PowerDriver`` interface: a node's BMC (power and boot device).

Like Ironic's power and management interfaces, cut to what OCX needs. One driver
instance speaks to one BMC: its settings (address, system, credentials) are the
node's power settings, with the password sealed at rest and opened only to build the
driver in a worker. Every method may be called again after a crash: turning on a node
that is on is no error.
"""

from __future__ import annotations

import abc
from enum import StrEnum

from ocx.drivers.base import Driver


class PowerState(StrEnum):
    """What the BMC reports."""

    ON = "on"
    OFF = "off"


class PowerAction(StrEnum):
    """What OCX asks for: hard power on or off, or off-then-on."""

    ON = "on"
    OFF = "off"
    CYCLE = "cycle"


class BootDevice(StrEnum):
    """Where the node boots from next."""

    PXE = "pxe"
    DISK = "disk"


class PowerDriver(Driver, abc.ABC):
    """One node's BMC. Entry-point group: ``ocx.drivers.power``."""

    interface = "power"

    @abc.abstractmethod
    def power_state(self) -> PowerState:
        """Whether the node is on or off now (a transition in progress reads as its target).

        Raises:
            DriverError: the BMC is unreachable or busy (retried).
            PermanentDriverError: the BMC refused the credentials, or has no such system.
        """

    @abc.abstractmethod
    def set_power(self, action: PowerAction) -> PowerState:
        """Turn the node on or off (hard), or cycle it; the state it ends in.

        ``on`` for a node that is on and ``off`` for one that is off change nothing;
        ``cycle`` of a node that is off turns it on.

        Raises:
            DriverError: the BMC is unreachable or busy (retried).
            PermanentDriverError: the BMC refused (credentials, unsupported action).
        """

    @abc.abstractmethod
    def set_boot_device(self, device: BootDevice, persistent: bool = True) -> None:
        """Boot from ``device`` from now on (or only next time, if not ``persistent``).

        Raises:
            DriverError: the BMC is unreachable or busy (retried).
            PermanentDriverError: the BMC refused (credentials, unsupported device).
        """

    @abc.abstractmethod
    def boot_device(self) -> BootDevice | None:
        """The device the node boots from next; None when it is neither PXE nor disk.

        Raises:
            DriverError: the BMC is unreachable (retried).
            PermanentDriverError: the BMC refused the credentials.
        """
