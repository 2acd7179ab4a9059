"""Finding driver implementations through entry points (``ocx.drivers.<interface>``).

A driver package declares itself in its ``pyproject.toml``::

    [project.entry-points."ocx.drivers.notifier"]
    smtp = "ocx.drivers.notifier.smtp:SmtpNotifier"

and configuration names it (``OCX_NOTIFIER_DRIVER=smtp``) with its settings as JSON.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Iterable, Mapping
from importlib.metadata import EntryPoint
from typing import TypeVar

from pydantic import ValidationError

from ocx.config import describe_validation_error
from ocx.drivers.base import Driver
from ocx.errors import InvalidInput

D = TypeVar("D", bound=Driver)
EntryPointSource = Callable[[str], Iterable[EntryPoint]]


def entry_point_group(interface: type[Driver]) -> str:
    """The entry-point group that lists implementations of ``interface``."""
    return f"ocx.drivers.{interface.interface}"


def installed_entry_points(group: str) -> Iterable[EntryPoint]:
    """Entry points of ``group`` declared by the installed distributions."""
    return importlib.metadata.entry_points(group=group)


class DriverRegistry:
    """Looks drivers up by interface and name; ``source`` is replaceable for tests."""

    def __init__(self, source: EntryPointSource = installed_entry_points, *,
                 allow_fakes: bool = True) -> None:
        self._source = source
        # Fakes keep state in the server process and do nothing real: fine for tests and
        # the demo, never what a provider's admin should be able to pick in production.
        self.allow_fakes = allow_fakes

    def _entry_points(self, interface: type[Driver]) -> dict[str, EntryPoint]:
        return {ep.name: ep for ep in self._source(entry_point_group(interface))}

    def names(self, interface: type[Driver]) -> list[str]:
        """Names of the installed implementations of ``interface``, sorted."""
        return sorted(self._entry_points(interface))

    def driver_class(self, interface: type[D], name: str) -> type[D]:
        """The implementation of ``interface`` called ``name``.

        Raises:
            InvalidInput: no such driver is installed, or it does not load, or it does
                not implement ``interface``.
        """
        found = self._entry_points(interface)
        if name == "fake" and not self.allow_fakes:
            raise InvalidInput(f"the fake {interface.interface} driver is for development "
                               "and tests only (OCX_FAKE_DRIVERS=true allows it)")
        if name not in found:
            installed = ", ".join(sorted(found)) or "none"
            raise InvalidInput(f"unknown {interface.interface} driver {name!r}; "
                               f"installed: {installed}")
        try:
            loaded = found[name].load()
        except (ImportError, AttributeError) as exc:
            raise InvalidInput(f"{interface.interface} driver {name!r} "
                               f"({found[name].value}) cannot be loaded: {exc}") from exc
        if not (isinstance(loaded, type) and issubclass(loaded, interface)):
            raise InvalidInput(f"{interface.interface} driver {name!r} ({found[name].value}) "
                               f"is not a {interface.__name__}")
        return loaded

    def create(self, interface: type[D], name: str, settings: Mapping[str, object]) -> D:
        """An instance of driver ``name`` built from its JSON ``settings``.

        Raises:
            InvalidInput: unknown driver (see :meth:`driver_class`), or settings that do
                not validate; the message names each bad field but never its value.
        """
        cls = self.driver_class(interface, name)
        try:
            parsed = cls.Settings.model_validate(dict(settings))
        except ValidationError as exc:
            raise InvalidInput(f"invalid settings for {interface.interface} driver {name!r}: "
                               f"{describe_validation_error(exc)}") from exc
        return cls(parsed)
