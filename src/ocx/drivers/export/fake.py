"""An exporter for tests and the demo: exports kept in this process's memory.

Exporters with the same ``server`` name share their exports, because the worker builds
a new driver for every operation. ``fail=export`` behaves like a qemu-nbd that cannot
open the image (permanent), ``fail=flaky`` like one that cannot start yet (retried).
"""

from __future__ import annotations

import threading
from typing import Literal

from pydantic import Field

from ocx.drivers.base import Driver
from ocx.drivers.export.base import Export, Exporter, SourceFormat
from ocx.errors import DriverError, PermanentDriverError

_EXPORTS: dict[str, dict[str, Export]] = {}
_LOCK = threading.Lock()


def fake_exports(server: str = "fake") -> dict[str, Export]:
    """A copy of the exports of the fake server ``server``."""
    with _LOCK:
        return dict(_EXPORTS.get(server, {}))


def forget_fake_exports() -> None:
    """Drop every fake export (between tests)."""
    with _LOCK:
        _EXPORTS.clear()


class FakeExporter(Exporter):
    """Remembers exports instead of serving them."""

    class Settings(Driver.Settings):
        server: str = Field(default="fake", min_length=1, max_length=100)
        host: str = Field(default="192.0.2.1", max_length=100)
        fail: Literal["never", "export", "flaky"] = "never"

    settings: Settings

    def export(self, name: str, source: str, source_format: SourceFormat) -> Export:
        """Remember the export (see :meth:`Exporter.export`)."""
        if self.settings.fail == "export":
            raise PermanentDriverError(f"cannot open {source}: image is corrupt")
        if self.settings.fail == "flaky":
            raise DriverError("the export server is not answering")
        with _LOCK:
            exports = _EXPORTS.setdefault(self.settings.server, {})
            existing = exports.get(name)
            if existing is not None and existing.source != source:
                raise PermanentDriverError(f"export {name} already serves {existing.source}")
            if existing is None:
                port = 10809 + len(exports)
                existing = exports[name] = Export(name=name, host=self.settings.host,
                                                  port=port, source=source, pid=None)
            return existing

    def unexport(self, name: str) -> None:
        """Forget the export."""
        with _LOCK:
            _EXPORTS.get(self.settings.server, {}).pop(name, None)

    def inspect(self, name: str) -> Export | None:
        """The remembered export, or None."""
        return fake_exports(self.settings.server).get(name)

    def list_exports(self) -> list[Export]:
        """Every remembered export, by name."""
        return [export for _, export in sorted(fake_exports(self.settings.server).items())]
