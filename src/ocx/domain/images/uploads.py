"""Receiving an upload: streamed to a staging file and hashed on the way, never held in memory.

The bytes land in ``OCX_IMAGE_STAGING_DIR`` (which workers must see too) under a random
name; only when their SHA-256 matches the one the client announced is an image row
written and the import journalled. A mismatch, a body over the size limit or a broken
connection leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import anyio

from ocx.errors import InvalidInput

SUFFIX = ".upload"


@dataclass(frozen=True)
class StagedUpload:
    """Bytes received and kept in a staging file, with what they hash to."""

    path: Path
    sha256: str
    size_bytes: int

    def discard(self) -> None:
        """Remove the staging file (no error if it is gone)."""
        self.path.unlink(missing_ok=True)


def staging_path(directory: Path) -> Path:
    """A new, unused staging file name under ``directory`` (created if missing)."""
    directory.mkdir(parents=True, exist_ok=True)
    return directory.absolute() / f"{uuid.uuid4().hex}{SUFFIX}"


async def receive(chunks: AsyncIterator[bytes], directory: Path, max_bytes: int) -> StagedUpload:
    """Write ``chunks`` to a new staging file, hashing them; the file is removed on error.

    Raises:
        InvalidInput: the body is empty or larger than ``max_bytes``.
    """
    path = staging_path(directory)
    digest, size = hashlib.sha256(), 0
    try:
        async with await anyio.open_file(path, "wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise InvalidInput(f"the image is larger than the limit of {max_bytes} bytes")
                digest.update(chunk)
                await out.write(chunk)
        if size == 0:
            raise InvalidInput("the upload is empty; send the image's bytes as the body")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return StagedUpload(path=path, sha256=digest.hexdigest(), size_bytes=size)


def verify(staged: StagedUpload, expected_sha256: str) -> None:
    """Keep ``staged`` only if it hashes to ``expected_sha256``.

    Raises:
        InvalidInput: it does not (the staging file is removed).
    """
    if staged.sha256 != expected_sha256.lower():
        staged.discard()
        raise InvalidInput(f"checksum mismatch: the {staged.size_bytes} bytes received hash to "
                           f"sha256 {staged.sha256}, not {expected_sha256.lower()}; "
                           "nothing was kept")
