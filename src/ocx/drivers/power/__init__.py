"""Power drivers: a node's BMC (Redfish, IPMI, or the fake)."""

from ocx.drivers.power.base import BootDevice, PowerAction, PowerDriver, PowerState

__all__ = ["BootDevice", "PowerAction", "PowerDriver", "PowerState"]
