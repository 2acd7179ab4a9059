"""The ``ImageBackend`` interface: where disk images live and how they are copied.

BMI's storage contract, cut to six verbs. A *golden* image is imported once and never
written again; a *clone* is a copy-on-write child of it (O(1) in the image's size:
no data is copied, only written blocks are stored), which a node boots from and
writes to; a *snapshot* freezes a clone's current content into a new image that can be
cloned in turn. An exporter (qemu-nbd, nbdkit, rbd-nbd) serves a clone to a node from
:meth:`ImageBackend.export_uri`.

Backends hold no database state: an :class:`ImageRef` (stored on the image's row) is
all they need to find an image again. Every method may be called again after a crash:
importing, cloning or snapshotting into a name that already holds the wanted image
returns it; deleting what is gone is no error.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from pathlib import Path

from ocx.drivers.base import Driver


@dataclass(frozen=True)
class ImageRef:
    """Where a backend keeps one image: a file name (qcow2) or ``pool/name`` (RBD)."""

    key: str

    def __str__(self) -> str:
        return self.key


class ImageBackend(Driver, abc.ABC):
    """One image store. Entry-point group: ``ocx.drivers.image``."""

    interface = "image"

    # What exporters read: "qcow2" (a qcow2 file) or "rbd" (an RBD image).
    export_format: str = ""

    @abc.abstractmethod
    def import_image(self, name: str, source: Path) -> ImageRef:
        """Store the raw or qcow2 file ``source`` as the golden image ``name``.

        ``source`` is left where it is (the caller removes it).

        Raises:
            PermanentDriverError: ``source`` is not a raw or qcow2 image, or names a
                backing file of its own (never followed: it could read any host file).
            DriverError: the store failed (retried).
        """

    @abc.abstractmethod
    def clone(self, source: ImageRef, name: str) -> ImageRef:
        """A writable copy-on-write child ``name`` of the image ``source``, in O(1).

        Raises:
            PermanentDriverError: ``source`` does not exist.
            DriverError: the store failed (retried).
        """

    @abc.abstractmethod
    def snapshot(self, ref: ImageRef, name: str) -> ImageRef:
        """Freeze the current content of ``ref`` (a clone a node wrote to) as image ``name``.

        The snapshot stays valid after ``ref`` is deleted; it may share blocks with
        ``ref``'s golden image, so that one must outlive it.

        Raises:
            PermanentDriverError: ``ref`` does not exist.
            DriverError: the store failed (retried).
        """

    @abc.abstractmethod
    def delete(self, ref: ImageRef) -> None:
        """Remove ``ref``; an image that is already gone is no error.

        Raises:
            PermanentDriverError: clones of ``ref`` remain, where the store can tell
                (RBD; qcow2 cannot): the library refuses that before asking.
            DriverError: the store failed (retried).
        """

    @abc.abstractmethod
    def size(self, ref: ImageRef) -> int:
        """The virtual size of ``ref`` in bytes (what the node sees as its disk).

        Raises:
            PermanentDriverError: ``ref`` does not exist.
            DriverError: the store failed (retried).
        """

    @abc.abstractmethod
    def export_uri(self, ref: ImageRef) -> str:
        """What an exporter opens for ``ref``: an absolute file path (qcow2) or
        ``rbd:pool/name[:conf=/path/ceph.conf]`` (RBD, qemu's syntax).

        Raises:
            PermanentDriverError: ``ref`` does not exist.
        """
