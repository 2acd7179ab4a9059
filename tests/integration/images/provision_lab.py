"""A diskless-boot lab for the provisioning tests: the bare-metal lab (fake switch and
BMCs), a real qcow2 image store (qemu-img) and a real NBD exporter (qemu-nbd on a
private port range), and golden images put straight into the store and the library."""

from __future__ import annotations

import random
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ocx.config import Environment, Settings
from ocx.domain.images.models import Image, NodeImage
from ocx.domain.images.states import ImageKind, ImageState
from ocx.drivers.export.nbd import QemuNbdExporter
from ocx.drivers.image.qcow2 import Qcow2Backend
from ocx.runtime import Runtime
from tests.integration.baremetal.support import Lab

TEST_SECRET = "test-secret-key-0123456789abcdef"


def boot_settings(database_url: str, folder: Path, boot_files: Path | None = None,
                  **export: Any) -> Settings:
    """Test settings with a qcow2 store and a qemu-nbd exporter under ``folder``."""
    first = random.randrange(20000, 60000, 100)  # other test runs may share the machine
    return Settings(
        environment=Environment.TEST, database_url=database_url, secret_key=TEST_SECRET,
        workers=0, task_broker_url="memory://", cookie_secure=False,
        image_backend="qcow2",
        image_backend_settings={"qcow2": {"directory": str(folder / "images")}},
        export_driver="nbd",
        export_settings={"state_dir": str(folder / "exports"), "port_min": first,
                         "port_max": first + 99, **export},
        boot_files_dir=boot_files or folder / "boot")


def make_disk(path: Path, content: bytes, size_mib: int = 16) -> Path:
    """A raw disk of ``size_mib`` MiB starting with ``content`` (what a test reads back)."""
    with path.open("wb") as disk:
        disk.write(content)
        disk.truncate(size_mib * 2**20)
    return path


@dataclass
class ImageStore:
    """The test's qcow2 store, seen from outside OCX (files) and from the library (rows)."""

    runtime: Runtime
    folder: Path

    @property
    def backend(self) -> Qcow2Backend:
        """The store, as the workers build it."""
        return Qcow2Backend(Qcow2Backend.Settings(directory=self.folder / "images"))

    @property
    def exporter(self) -> QemuNbdExporter:
        """The exporter, as the workers build it."""
        return QemuNbdExporter(QemuNbdExporter.Settings.model_validate(
            self.runtime.settings.export_settings))

    def add_golden(self, name: str, source: Path, project_id: uuid.UUID | None = None,
                   state: ImageState = ImageState.AVAILABLE) -> Image:
        """Import ``source`` into the store and list it in the library (public by default)."""
        ref = self.backend.import_image(f"img-{uuid.uuid4().hex}", source)
        with self.runtime.sessions() as session, session.begin():
            image = Image(project_id=project_id, name=name, kind=ImageKind.GOLDEN,
                          backend="qcow2", backend_ref=ref.key, format="qcow2",
                          size_bytes=self.backend.size(ref), state=state)
            session.add(image)
        return image

    def files(self) -> set[str]:
        """The image files in the store."""
        return {path.name for path in (self.folder / "images").glob("*.qcow2")}

    def disk(self, node_id: uuid.UUID) -> NodeImage | None:
        """The node's mapping row, if any."""
        with self.runtime.sessions() as session:
            row = session.scalar(select(NodeImage).where(NodeImage.node_id == node_id))
            if row is not None:
                session.expunge(row)
            return row

    def stop_exports(self) -> None:
        """Stop every qemu-nbd this test started."""
        for export in self.exporter.list_exports():
            self.exporter.unexport(export.name)


def read_export(uri: str, length: int) -> bytes:
    """The first ``length`` bytes of an NBD export, read with qemu-io as a client would."""
    whole_lines = -(-length // 16) * 16  # qemu-io's dump: 16 bytes a line, then ASCII
    out = subprocess.run(["qemu-io", "-r", "-f", "raw", "-c", f"read -v 0 {whole_lines}", uri],
                         capture_output=True, text=True, check=True, timeout=30).stdout
    data = bytearray()
    for line in out.splitlines():
        if ":" in line and line[:8].strip().isalnum():
            data.extend(bytes.fromhex("".join(line.split(":", 1)[1].split()[:16])))
    return bytes(data[:length])


def node_id(lab: Lab, name: str) -> uuid.UUID:
    """The id of lab node ``name``."""
    return uuid.UUID(lab.node(name)["id"])


def store_fixture(runtime: Runtime, folder: Path) -> Iterator[ImageStore]:
    """An image store for one test; its exports are stopped afterwards."""
    store = ImageStore(runtime, folder)
    try:
        yield store
    finally:
        store.stop_exports()
