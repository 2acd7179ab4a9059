"""The ``Exporter`` interface: serve a node's disk image over the network (NBD).

A node boots diskless: its initrd attaches an NBD export of its clone as the root
disk. The exporter owns the serving processes; OCX only records the export's URI,
``nbd://HOST:PORT/NAME``, that the node's boot script hands to the initrd.

Every method may be called again after a crash: exporting a name that is already
served from the same source returns that export; unexporting what is gone is no error.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from enum import StrEnum

from ocx.drivers.base import Driver


class SourceFormat(StrEnum):
    """How the exporter reads the image: a qcow2 file, or a Ceph RBD image."""

    QCOW2 = "qcow2"
    RBD = "rbd"


@dataclass(frozen=True)
class Export:
    """One served image: its name, where nodes reach it, what it reads, who serves it."""

    name: str
    host: str
    port: int
    source: str
    pid: int | None = None

    @property
    def uri(self) -> str:
        """The NBD URI a node's initrd connects to (``nbd://HOST:PORT/NAME``)."""
        return f"nbd://{self.host}:{self.port}/{self.name}"


class Exporter(Driver, abc.ABC):
    """Serves images to nodes. Entry-point group: ``ocx.drivers.export``."""

    interface = "export"

    @abc.abstractmethod
    def export(self, name: str, source: str, source_format: SourceFormat) -> Export:
        """Serve ``source`` (a file path, or ``rbd:pool/image``) as export ``name``.

        Idempotent: a live export ``name`` of the same source is returned as it is; a
        dead one (its server was killed) is started again.

        Raises:
            PermanentDriverError: the name is served from another source, the source
                cannot be opened (missing, corrupt, unsupported format), or the
                exporter lacks support for it (RBD without qemu's rbd driver).
            DriverError: no free port, or the server failed to start (retried).
        """

    @abc.abstractmethod
    def unexport(self, name: str) -> None:
        """Stop serving ``name``; an export that is gone is no error.

        Raises:
            DriverError: the server did not stop (retried).
        """

    @abc.abstractmethod
    def inspect(self, name: str) -> Export | None:
        """The live export ``name``, or None."""

    @abc.abstractmethod
    def list_exports(self) -> list[Export]:
        """Every live export, by name."""
