"""Driver settings kept in rows (offerings, switches, nodes): validated by the driver,
stored with its secret fields sealed, opened only in a worker right before use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from ocx.drivers.base import Driver
from ocx.drivers.registry import DriverRegistry
from ocx.persistence import sealed
from ocx.persistence.sealed import MASK, Sealer

D = TypeVar("D", bound=Driver)


def validated(registry: DriverRegistry, sealer: Sealer, interface: type[D], driver: str,
              raw: Mapping[str, Any]) -> dict[str, Any]:
    """``raw`` checked by driver ``driver``'s Settings, as the JSON to store (secrets sealed).

    Raises:
        InvalidInput: unknown driver, or settings it refuses (each bad field named, never
            its value).
    """
    return sealed.seal_fields(sealer, registry.create(interface, driver, raw).settings)


def updated(registry: DriverRegistry, sealer: Sealer, interface: type[D], driver: str,
            stored: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Stored settings with ``changes`` applied; a secret sent back as the mask is kept."""
    settings_model = registry.driver_class(interface, driver).Settings
    merged = {**sealed.open_fields(sealer, stored, settings_model),
              **{key: value for key, value in changes.items() if value != MASK}}
    return validated(registry, sealer, interface, driver, merged)


def build(registry: DriverRegistry, sealer: Sealer, interface: type[D], driver: str,
          stored: Mapping[str, Any]) -> D:
    """The driver for stored settings, secrets opened (in a worker, right before use).

    Raises:
        InvalidInput: the driver is gone or the stored settings no longer validate.
        UnsealError: a secret was sealed under another key.
    """
    settings_model = registry.driver_class(interface, driver).Settings
    return registry.create(interface, driver,
                           sealed.open_fields(sealer, stored, settings_model))


def masked(stored: Mapping[str, Any]) -> dict[str, Any]:
    """Stored settings as people may see them (secrets masked)."""
    return sealed.mask_fields(stored)
