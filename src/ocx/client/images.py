"""Client calls for the image library (mixed into ``OcxClient``)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import httpx

from ocx.client.errors import ServerUnreachable, UnexpectedResponse
from ocx.client.models import Page
from ocx.client.transport import Transport as _Transport
from ocx.client.transport import clean as _body
from ocx.client.transport import seg as _seg
from ocx.domain.images.schemas import ImagePublic

CHUNK_BYTES = 1 << 20


class _Uploader(_Transport, Protocol):
    url: str
    timeout: float
    _http: httpx.Client


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as source:
        while chunk := source.read(CHUNK_BYTES):
            yield chunk


class ImageCalls:
    """Golden images, clones and snapshots."""

    def upload_image(self: _Uploader, path: Path, name: str, *, project: str | None,
                     sha256: str | None = None, description: str | None = None,
                     backend: str | None = None) -> ImagePublic:
        """Stream a raw or qcow2 file as a new image (``project`` None: public); ``sha256``
        (computed from the file when not given) is checked by the server."""
        from ocx.client.http import error_from

        params = _body(name=name, project=project, description=description, backend=backend,
                       sha256=sha256 or file_sha256(path))
        try:
            response = self._http.post("images", params=params, content=_chunks(path),
                                       headers={"Content-Type": "application/octet-stream"})
        except httpx.TransportError as exc:
            raise ServerUnreachable(self.url, str(exc) or type(exc).__name__) from exc
        if response.is_error:
            raise error_from(response)
        try:
            return ImagePublic.model_validate(response.json())
        except ValueError as exc:
            raise UnexpectedResponse(f"POST {response.url} answered with a body this client "
                                     "does not understand") from exc

    def list_images(self: _Transport, *, project: str | None = None, public: bool | None = None,
                    cursor: str | None = None, limit: int | None = None) -> Page[ImagePublic]:
        """One page of the public images and the caller's projects' images."""
        return self._page(Page[ImagePublic], "images", cursor, limit, project=project,
                          public=None if public is None else str(public).lower())

    def get_image(self: _Transport, image: str) -> ImagePublic:
        """One image, by id, PROJECT/NAME or name."""
        return self._read(ImagePublic, "GET", f"images/{_seg(image)}")

    def clone_image(self: _Transport, source: str, name: str, *, project: str,
                    description: str | None = None) -> ImagePublic:
        """Clone an image copy-on-write into a new image of ``project`` (202, creating)."""
        body = _body(source=source, name=name, project=project, description=description)
        return self._read(ImagePublic, "POST", "images/clones", body)

    def snapshot_node(self: _Transport, node: str, name: str, *, project: str | None = None,
                      description: str | None = None) -> ImagePublic:
        """Freeze the disk ``node`` boots from into a new image (202, creating)."""
        body = _body(node=node, name=name, project=project, description=description)
        return self._read(ImagePublic, "POST", "images/snapshots", body)

    def delete_image(self: _Transport, image: str) -> ImagePublic:
        """Remove an image (202, deleting; 409 while in use or depended on)."""
        return self._read(ImagePublic, "DELETE", f"images/{_seg(image)}")
