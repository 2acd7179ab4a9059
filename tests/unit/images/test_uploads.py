"""Receiving an upload: hashed on the way to a staging file, kept only when it matches."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from ocx.domain.images.uploads import StagedUpload, receive, verify
from ocx.errors import InvalidInput


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def _receive(directory: Path, *parts: bytes, max_bytes: int = 1 << 20) -> StagedUpload:
    async def go() -> StagedUpload:
        return await receive(_chunks(*parts), directory, max_bytes)

    return anyio.run(go)


def test_the_bytes_land_in_a_staging_file_with_their_hash(tmp_path: Path) -> None:
    staged = _receive(tmp_path, b"golden ", b"image")

    assert staged.path.parent == tmp_path and staged.path.read_bytes() == b"golden image"
    assert staged.sha256 == hashlib.sha256(b"golden image").hexdigest()
    assert staged.size_bytes == 12
    verify(staged, staged.sha256.upper())
    assert staged.path.exists()


def test_a_mismatch_removes_the_staging_file(tmp_path: Path) -> None:
    staged = _receive(tmp_path, b"corrupted")

    with pytest.raises(InvalidInput, match=r"checksum mismatch.*nothing was kept"):
        verify(staged, "0" * 64)

    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("parts", "reason"), [((b"x" * 10, b"y" * 10), "larger than"),
                                               ((), "empty")])
def test_too_large_or_empty_uploads_leave_nothing(tmp_path: Path, parts: tuple[bytes, ...],
                                                  reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        _receive(tmp_path, *parts, max_bytes=15)

    assert list(tmp_path.iterdir()) == []
