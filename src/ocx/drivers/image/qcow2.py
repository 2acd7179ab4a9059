"""qcow2 files in one directory, through ``qemu-img``: the embedded default backend.

A clone is a qcow2 overlay whose backing file is its source (``qemu-img create -b``):
it is made in constant time and stores only what is written to it. Backing files are
named relative to the directory, so the directory may move. Every file is first written
as ``NAME.part`` and renamed, so a crash never leaves a half image under its real name.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field

from ocx.drivers.base import Driver
from ocx.drivers.image.base import ImageBackend, ImageRef
from ocx.drivers.image.tools import check_name, inspect, inspect_upload, run
from ocx.errors import PermanentDriverError

SUFFIX = ".qcow2"


class Qcow2Backend(ImageBackend):
    """Images as qcow2 files under ``directory``."""

    export_format = "qcow2"

    class Settings(Driver.Settings):
        directory: Path = Field(default=Path("var/images"),
                                description="where the image files live (created if missing)")
        qemu_img: str = Field(default="qemu-img", min_length=1)
        timeout_s: float = Field(default=3600.0, gt=0, description="longest qemu-img run")

    settings: Settings

    def _path(self, ref: ImageRef | str) -> Path:
        name = ref.key if isinstance(ref, ImageRef) else ref
        directory = self.settings.directory.absolute()
        directory.mkdir(parents=True, exist_ok=True)
        return directory / (check_name(name.removesuffix(SUFFIX)) + SUFFIX)

    def _existing(self, ref: ImageRef) -> Path:
        path = self._path(ref)
        if not path.is_file():
            raise PermanentDriverError(f"image {ref.key} does not exist")
        return path

    def _qemu_img(self, *args: str) -> str:
        return run([self.settings.qemu_img, *args], self.settings.timeout_s)

    def _write(self, name: str, *args: str) -> ImageRef:
        """Run ``qemu-img ARGS TARGET`` into ``name``.part, then rename it to ``name``."""
        target = self._path(name)
        if not target.exists():
            partial = target.with_name(target.name + ".part")
            partial.unlink(missing_ok=True)
            self._qemu_img(*args, str(partial))
            os.replace(partial, target)
        return ImageRef(target.name)

    def import_image(self, name: str, source: Path) -> ImageRef:
        """Convert ``source`` (raw or qcow2) into a standalone qcow2 file."""
        if self._path(name).exists():  # imported before a crash: the upload may be gone
            return ImageRef(self._path(name).name)
        found = inspect_upload(self.settings.qemu_img, source, self.settings.timeout_s)
        return self._write(name, "convert", "-f", found.format, "-O", "qcow2", str(source))

    def clone(self, source: ImageRef, name: str) -> ImageRef:
        """A qcow2 overlay backed by ``source``: no data is copied."""
        base = self._existing(source)
        return self._write(name, "create", "-q", "-f", "qcow2", "-b", base.name,
                           "-F", "qcow2")

    def snapshot(self, ref: ImageRef, name: str) -> ImageRef:
        """Copy what ``ref`` holds above its backing file into a new overlay of that file
        (cost: the clone's written blocks, not the image's size)."""
        path = self._existing(ref)
        backing = inspect(self.settings.qemu_img, path, self.settings.timeout_s).backing_file
        chain = ["-B", backing, "-F", "qcow2"] if backing else []
        return self._write(name, "convert", "-U", "-f", "qcow2", "-O", "qcow2", *chain,
                           str(path))

    def delete(self, ref: ImageRef) -> None:
        """Remove the file (and a leftover partial one)."""
        path = self._path(ref)
        path.with_name(path.name + ".part").unlink(missing_ok=True)
        path.unlink(missing_ok=True)

    def size(self, ref: ImageRef) -> int:
        """The virtual size qemu-img reports."""
        return inspect(self.settings.qemu_img, self._existing(ref),
                       self.settings.timeout_s).virtual_size

    def export_uri(self, ref: ImageRef) -> str:
        """The file's absolute path (``qemu-nbd -f qcow2 PATH``)."""
        return str(self._existing(ref))
