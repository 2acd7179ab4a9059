"""Switch drivers: which VLANs each switch port carries (network isolation, HIL style)."""

from ocx.drivers.switch.base import PortConfig, SwitchDriver

__all__ = ["PortConfig", "SwitchDriver"]
