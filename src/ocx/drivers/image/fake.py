"""An image store for tests and the demo: images as byte strings in this process's memory.

Stores with the same ``store`` name share their images, because the worker builds a
new backend for every operation. A clone records its source and copies nothing, like
the real backends; ``fail=unreachable`` behaves like a store that does not answer.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field

from ocx.drivers.base import Driver
from ocx.drivers.image.base import ImageBackend, ImageRef
from ocx.drivers.image.tools import check_name
from ocx.errors import DriverError, PermanentDriverError


@dataclass(frozen=True)
class FakeImage:
    """One stored image: its own bytes, or the image it is a copy-on-write child of."""

    size: int
    data: bytes = b""
    parent: str | None = None


_STORES: dict[str, dict[str, FakeImage]] = {}
_LOCK = threading.Lock()


def fake_store(name: str) -> dict[str, FakeImage]:
    """The images of the fake store called ``name`` (shared, mutable)."""
    with _LOCK:
        return _STORES.setdefault(name, {})


def forget_fake_stores() -> None:
    """Drop every fake store (between tests)."""
    with _LOCK:
        _STORES.clear()


class FakeImageBackend(ImageBackend):
    """Keeps images in memory instead of a real store."""

    export_format = "qcow2"

    class Settings(Driver.Settings):
        store: str = Field(default="fake", min_length=1, max_length=100)
        fail: Literal["never", "unreachable"] = "never"

    settings: Settings

    def _images(self) -> dict[str, FakeImage]:
        if self.settings.fail == "unreachable":
            raise DriverError(f"image store {self.settings.store} is unreachable")
        return fake_store(self.settings.store)

    def _get(self, ref: ImageRef) -> FakeImage:
        found = self._images().get(ref.key)
        if found is None:
            raise PermanentDriverError(f"image {ref.key} does not exist")
        return found

    def _put(self, name: str, image: FakeImage) -> ImageRef:
        images = self._images()
        with _LOCK:
            images.setdefault(check_name(name), image)
        return ImageRef(name)

    def import_image(self, name: str, source: Path) -> ImageRef:
        """Keep the file's bytes."""
        data = source.read_bytes()
        return self._put(name, FakeImage(size=len(data), data=data))

    def clone(self, source: ImageRef, name: str) -> ImageRef:
        """Record ``source`` as the parent; nothing is copied."""
        return self._put(name, FakeImage(size=self._get(source).size, parent=source.key))

    def snapshot(self, ref: ImageRef, name: str) -> ImageRef:
        """A child of ``ref``'s own parent, as the qcow2 backend makes it."""
        found = self._get(ref)
        return self._put(name, FakeImage(size=found.size, data=found.data, parent=found.parent))

    def delete(self, ref: ImageRef) -> None:
        """Forget the image."""
        images = self._images()
        with _LOCK:
            images.pop(ref.key, None)

    def size(self, ref: ImageRef) -> int:
        """The stored size."""
        return self._get(ref).size

    def export_uri(self, ref: ImageRef) -> str:
        """A made-up path."""
        self._get(ref)
        return f"/fake/{self.settings.store}/{ref.key}"
