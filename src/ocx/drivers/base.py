"""What every driver shares: a nested, validated ``Settings`` model.

A driver *interface* (``Notifier``, later ``PowerDriver``, ``SwitchDriver``...) is an
abstract subclass of :class:`Driver` naming its entry-point group in ``interface``.
An *implementation* subclasses the interface and its ``Settings``; the registry builds
it from the JSON stored in configuration or in a row (``Driver.Settings.model_validate``).
Drivers never touch the database: the worker hands them everything they need.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class Driver:
    """Base of every driver interface and implementation."""

    # The entry-point group is ``ocx.drivers.<interface>``; set by each interface.
    interface: ClassVar[str] = ""

    class Settings(BaseModel):
        """No settings; implementations subclass this with their own fields."""

        # A typo in a setting is an error, not a silently ignored key.
        model_config = ConfigDict(extra="forbid", frozen=True)

        # The settings that say where the secret fields are sent (an address, whether
        # TLS is checked): changing one needs the secrets entered again. ``None``: all.
        secret_destination: ClassVar[frozenset[str] | None] = None

    def __init__(self, settings: Driver.Settings) -> None:
        # Subclasses narrow the type with ``settings: Settings``; this keeps it honest.
        if not isinstance(settings, type(self).Settings):
            raise TypeError(f"{type(self).__name__} takes its own Settings, "
                            f"not {type(settings).__qualname__}")
        self.settings = settings


