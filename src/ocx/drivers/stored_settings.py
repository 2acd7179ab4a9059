"""Driver settings kept in rows (offerings, switches, nodes): validated by the driver,
stored with its secret fields sealed, opened only in a worker right before use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from ocx.drivers.base import Driver
from ocx.drivers.registry import DriverRegistry
from ocx.errors import InvalidInput
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
    """Stored settings with ``changes`` applied; a secret sent back as the mask is kept.

    A kept secret goes only where it went before: changing a setting that says where it
    goes (the driver's ``Settings.secret_destination``: the BMC's address, the cloud's
    auth_url, whether TLS is checked...) needs the secrets sent again, or whoever may edit
    the settings but never saw the password could point it at a server of theirs.

    Raises:
        InvalidInput: settings changed while a secret was kept, or settings the driver
            refuses.
    """
    settings_model = registry.driver_class(interface, driver).Settings
    current = sealed.open_fields(sealer, stored, settings_model)
    given = {key: value for key, value in changes.items() if value != MASK}
    secrets = sealed.secret_names(settings_model)
    kept = sorted(name for name in secrets
                  if current.get(name) is not None and name not in given)
    new = registry.create(interface, driver, {**current, **given}).settings
    if kept:
        watched = settings_model.secret_destination
        before = registry.create(interface, driver, current).settings.model_dump(
            mode="json", exclude=set(secrets))
        after = new.model_dump(mode="json", exclude=set(secrets))
        moved = sorted(key for key in after if before.get(key) != after[key]
                       and (watched is None or key in watched))
        if moved:
            raise InvalidInput(
                f"changing {', '.join(moved)} needs {', '.join(kept)} sent again: a stored "
                "secret is never sent to a new place without being re-entered")
    return sealed.seal_fields(sealer, new)


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
