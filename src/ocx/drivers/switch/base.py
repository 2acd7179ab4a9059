"""The ``SwitchDriver`` interface: VLANs on the switch ports that bare-metal NICs plug into.

HIL's contract, kept as small: OCX decides which networks a NIC should carry and asks
the driver to make a port carry exactly that. A :class:`PortConfig` is the *whole*
wanted state of one port (declarative, so applying it twice changes nothing), and
:meth:`SwitchDriver.apply` sets many ports in one session with the switch: one OVSDB
transaction for Open vSwitch, one SSH session and one commit on a vendor switch. That
is what makes per-switch batching pay: a port move costs a round trip, a session costs
a login.

A port that carries nothing is *isolated*: it must reach no other port, not even
another isolated one. Drivers implement this the way the switch allows (Open vSwitch:
a quarantine VLAN on a protected port; a vendor switch: shutdown, or a private VLAN).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field

from ocx.drivers.base import Driver

MIN_VLAN, MAX_VLAN = 1, 4094


@dataclass(frozen=True)
class PortConfig:
    """What one port should carry: an untagged (access/native) VLAN and tagged VLANs."""

    port: str
    access_vlan: int | None = None
    trunk_vlans: frozenset[int] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        vlans = ([self.access_vlan] if self.access_vlan is not None else []) + sorted(
            self.trunk_vlans)
        bad = [vlan for vlan in vlans if not MIN_VLAN <= vlan <= MAX_VLAN]
        if bad:
            raise ValueError(f"port {self.port}: VLAN ids must be {MIN_VLAN}-{MAX_VLAN}, "
                             f"not {bad}")
        if self.access_vlan is not None and self.access_vlan in self.trunk_vlans:
            raise ValueError(f"port {self.port}: VLAN {self.access_vlan} cannot be both "
                             "untagged and tagged")

    @property
    def isolated(self) -> bool:
        """Whether the port carries no VLAN at all."""
        return self.access_vlan is None and not self.trunk_vlans


class SwitchDriver(Driver, abc.ABC):
    """One switch. Entry-point group: ``ocx.drivers.switch``.

    Every method may be called again after a crash: configurations are whole states,
    not increments, so repeating one is harmless.
    """

    interface = "switch"

    @abc.abstractmethod
    def apply(self, configs: Sequence[PortConfig]) -> None:
        """Make each port carry exactly its configuration, all in one switch session.

        All or nothing where the switch allows it (Open vSwitch: one transaction);
        otherwise ports are changed in the given order and a failure stops there.

        Raises:
            DriverError: the switch is unreachable or busy (retried; nothing changed, or
                the changes already made are harmless to repeat).
            PermanentDriverError: the switch refused: unknown port, bad settings.
        """

    @abc.abstractmethod
    def read_port(self, port: str) -> PortConfig:
        """What ``port`` carries now, as the switch reports it.

        Raises:
            DriverError: the switch is unreachable (retried).
            PermanentDriverError: no such port.
        """

    def set_access_vlan(self, port: str, vlan: int) -> None:
        """Make ``port`` an access port of ``vlan`` and nothing else (see :meth:`apply`)."""
        self.apply([PortConfig(port, access_vlan=vlan)])

    def set_trunk_vlans(self, port: str, vlans: frozenset[int],
                        native_vlan: int | None = None) -> None:
        """Make ``port`` carry ``vlans`` tagged (and ``native_vlan`` untagged, if given)."""
        self.apply([PortConfig(port, access_vlan=native_vlan, trunk_vlans=vlans)])

    def isolate(self, port: str) -> None:
        """Remove every VLAN from ``port``: it reaches nothing (see :meth:`apply`)."""
        self.apply([PortConfig(port)])
