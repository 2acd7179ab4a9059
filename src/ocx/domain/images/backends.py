"""Building the configured image backends (their settings come from ``OCX_IMAGE_*``)."""

from __future__ import annotations

from ocx.config import Settings
from ocx.domain.operations.handlers import HandlerContext
from ocx.drivers.image import ImageBackend
from ocx.drivers.registry import DriverRegistry
from ocx.errors import InvalidInput, PermanentDriverError


def build_backend(drivers: DriverRegistry, settings: Settings, name: str) -> ImageBackend:
    """The image backend ``name`` with its configured settings.

    Raises:
        InvalidInput: no such backend is installed, or its settings are invalid.
    """
    return drivers.create(ImageBackend, name, settings.image_backend_settings.get(name, {}))


def image_backend(ctx: HandlerContext, name: str) -> ImageBackend:
    """The image backend ``name`` for a handler (defaults when the context has no settings).

    Raises:
        PermanentDriverError: no such backend is installed, or its settings are invalid.
    """
    try:
        return build_backend(ctx.drivers, ctx.settings or Settings(), name)
    except InvalidInput as exc:
        raise PermanentDriverError(exc.message) from exc


def check_backend(drivers: DriverRegistry, name: str) -> str:
    """``name`` if it is an installed image backend.

    Raises:
        InvalidInput: it is not (or it is the fake where fakes are not allowed).
    """
    try:
        drivers.driver_class(ImageBackend, name)
    except InvalidInput as exc:
        raise InvalidInput(exc.message.replace("image driver", "image backend")) from exc
    return name
