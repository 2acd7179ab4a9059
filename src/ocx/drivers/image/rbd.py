"""Ceph RBD images through the ``rbd`` command (``--format json``): layered clones.

A golden image is imported once (``rbd import``, format 2, sparse). Cloning it takes a
protected snapshot ``ocx-base`` of it the first time, then ``rbd clone`` makes a child
that shares every unwritten block with that snapshot: O(1) in the image's size.
A snapshot of a node's clone is a protected snapshot ``ocx-snap-NAME`` of the clone and a
child ``NAME`` of it; deleting the clone first *flattens* such children (copies the
blocks they still share), so a snapshot outlives the disk it was taken from, while a
golden image's clones (children of ``ocx-base``) make deleting it an error.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from pydantic import Field

from ocx.drivers.base import Driver
from ocx.drivers.image.base import ImageBackend, ImageRef
from ocx.drivers.image.tools import check_name, inspect_upload, run, run_json
from ocx.errors import DriverError, PermanentDriverError

BASE_SNAP = "ocx-base"
SNAP_PREFIX = "ocx-snap-"


class RbdBackend(ImageBackend):
    """Images in one RBD pool of a Ceph cluster."""

    export_format = "rbd"

    class Settings(Driver.Settings):
        pool: str = Field(default="rbd", pattern=r"^[A-Za-z0-9_.-]{1,100}$")
        conf: Path | None = Field(default=None, description="ceph.conf (default: Ceph's own)")
        user: str = Field(default="admin", pattern=r"^[A-Za-z0-9_.-]{1,100}$",
                          description="the Ceph client id (client.USER)")
        keyring: Path | None = Field(default=None, description="the user's keyring file")
        rbd: str = Field(default="rbd", min_length=1)
        qemu_img: str = Field(default="qemu-img", min_length=1)
        timeout_s: float = Field(default=3600.0, gt=0, description="longest single command")

    settings: Settings

    # -- the rbd command ------------------------------------------------------------------

    def _command(self, *args: str) -> list[str]:
        command = [self.settings.rbd, *args, "--id", self.settings.user]
        if self.settings.conf is not None:
            command += ["--conf", str(self.settings.conf)]
        if self.settings.keyring is not None:
            command += ["--keyring", str(self.settings.keyring)]
        return command

    def _rbd(self, *args: str) -> None:
        run(self._command(*args), self.settings.timeout_s)

    def _query(self, *args: str) -> Any:
        """``rbd ARGS --format json``, parsed (``--format`` means the image format to
        ``rbd import``, so only read commands get it)."""
        return run_json(self._command(*args, "--format", "json"), self.settings.timeout_s)

    def _spec(self, name: str) -> str:
        return f"{self.settings.pool}/{check_name(name, partial=True)}"

    def _info(self, name: str) -> dict[str, Any] | None:
        """``rbd info`` of ``name``, or None if there is no such image."""
        try:
            info: dict[str, Any] = self._query("info", self._spec(name))
        except DriverError as exc:
            if "No such file or directory" in exc.message:
                return None
            raise
        return info

    def _existing(self, ref: ImageRef) -> dict[str, Any]:
        info = self._info(ref.key)
        if info is None:
            raise PermanentDriverError(f"RBD image {self._spec(ref.key)} does not exist")
        return info

    def _snapshots(self, name: str) -> dict[str, dict[str, Any]]:
        snaps: list[dict[str, Any]] = self._query("snap", "ls", self._spec(name))
        return {snap["name"]: snap for snap in snaps}

    def _protected_snapshot(self, name: str, snap: str) -> str:
        """``pool/name@snap``, created and protected unless it already is."""
        spec = f"{self._spec(name)}@{snap}"
        found = self._snapshots(name).get(snap)
        if found is None:
            self._rbd("snap", "create", spec)
        if found is None or str(found.get("protected")) != "true":
            self._rbd("snap", "protect", spec)
        return spec

    def _child(self, parent_spec: str, name: str) -> ImageRef:
        if self._info(name) is None:
            self._rbd("clone", parent_spec, self._spec(name))
        return ImageRef(name)

    # -- the interface --------------------------------------------------------------------

    def import_image(self, name: str, source: Path) -> ImageRef:
        """``rbd import`` of ``source`` (a qcow2 upload is made raw on the side first)."""
        check_name(name)
        if self._info(name) is not None:
            return ImageRef(name)
        found = inspect_upload(self.settings.qemu_img, source, self.settings.timeout_s)
        # Imported under a partial name and renamed: a crash leaves no half golden image.
        partial = f"{name}.part"
        if self._info(partial) is not None:
            self._rbd("rm", self._spec(partial))
        with tempfile.TemporaryDirectory(dir=source.parent) as scratch:
            raw = source
            if found.format != "raw":
                raw = Path(scratch) / "image.raw"
                run([self.settings.qemu_img, "convert", "-f", found.format, "-O", "raw",
                     str(source), str(raw)], self.settings.timeout_s)
            self._rbd("import", "--image-format", "2", str(raw), self._spec(partial))
        self._rbd("mv", self._spec(partial), self._spec(name))
        return ImageRef(name)

    def clone(self, source: ImageRef, name: str) -> ImageRef:
        """A layered child of ``source@ocx-base``: no data is copied."""
        check_name(name)
        self._existing(source)
        return self._child(self._protected_snapshot(source.key, BASE_SNAP), name)

    def snapshot(self, ref: ImageRef, name: str) -> ImageRef:
        """A protected snapshot of ``ref`` and a layered child ``name`` of it."""
        check_name(name)
        if self._info(name) is not None:
            return ImageRef(name)
        self._existing(ref)
        return self._child(self._protected_snapshot(ref.key, SNAP_PREFIX + name), name)

    def delete(self, ref: ImageRef) -> None:
        """Flatten the children of its ``ocx-snap-*`` snapshots, drop every snapshot, remove.

        Raises:
            PermanentDriverError: clones of it (children of ``ocx-base``) remain.
        """
        if self._info(ref.key) is None:
            return
        for snap, found in self._snapshots(ref.key).items():
            spec = f"{self._spec(ref.key)}@{snap}"
            if str(found.get("protected")) == "true":
                self._release_children(spec, flatten=snap.startswith(SNAP_PREFIX))
                self._rbd("snap", "unprotect", spec)
        self._rbd("snap", "purge", self._spec(ref.key))
        self._rbd("rm", self._spec(ref.key))

    def _release_children(self, spec: str, *, flatten: bool) -> None:
        children: list[dict[str, Any]] = self._query("children", spec)
        if children and not flatten:
            names = ", ".join(f"{child['pool']}/{child['image']}" for child in children)
            raise PermanentDriverError(f"RBD image {spec} still has clones: {names}")
        for child in children:
            self._rbd("flatten", f"{child['pool']}/{child['image']}")

    def size(self, ref: ImageRef) -> int:
        """The image's size as ``rbd info`` reports it."""
        return int(self._existing(ref)["size"])

    def export_uri(self, ref: ImageRef) -> str:
        """qemu's RBD file name: ``rbd:POOL/NAME:id=USER[:conf=...][:keyring=...]``."""
        self._existing(ref)
        uri = f"rbd:{self._spec(ref.key)}:id={self.settings.user}"
        if self.settings.conf is not None:
            uri += f":conf={self.settings.conf.absolute()}"
        if self.settings.keyring is not None:
            uri += f":keyring={self.settings.keyring.absolute()}"
        return uri
