"""The fake image backend keeps the contract's shape: clones share, deletes are idempotent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ocx.drivers.image import ImageBackend
from ocx.drivers.image.fake import FakeImageBackend, fake_store, forget_fake_stores
from ocx.drivers.registry import DriverRegistry
from ocx.errors import DriverError, PermanentDriverError


@pytest.fixture(autouse=True)
def _fresh_stores() -> Iterator[None]:
    yield
    forget_fake_stores()


def _backend(**settings: str) -> ImageBackend:
    return DriverRegistry().create(ImageBackend, "fake", settings)


def test_a_clone_copies_nothing_and_a_snapshot_shares_the_golden_image(tmp_path: Path) -> None:
    source = tmp_path / "disk.raw"
    source.write_bytes(b"\x11" * 4096)
    backend = _backend(store="lab")

    golden = backend.import_image("golden", source)
    clone = backend.clone(golden, "disk")
    snapshot = backend.snapshot(clone, "frozen")

    images = fake_store("lab")
    assert backend.size(clone) == 4096 and images["disk"].data == b""
    assert images["disk"].parent == "golden" == images["frozen"].parent
    assert backend.export_uri(snapshot) == "/fake/lab/frozen"


def test_delete_is_idempotent_and_a_dead_store_is_retried(tmp_path: Path) -> None:
    source = tmp_path / "disk.raw"
    source.write_bytes(b"x")
    backend = _backend()
    golden = backend.import_image("golden", source)

    backend.delete(golden)
    backend.delete(golden)

    with pytest.raises(PermanentDriverError, match="does not exist"):
        backend.size(golden)
    with pytest.raises(DriverError, match="unreachable"):
        FakeImageBackend(FakeImageBackend.Settings(fail="unreachable")).size(golden)
