"""Image backends under test, and how to look inside what they store (qemu-io, rbd du).

Both real backends are driven through the same interface; what differs is only how a
test reads an image's bytes back and how many bytes it really occupies.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from ocx.config import Settings
from ocx.drivers.image import ImageBackend, ImageRef
from ocx.drivers.image.qcow2 import Qcow2Backend
from ocx.drivers.image.rbd import RbdBackend
from tests.servers.ceph import RBD_POOL, Ceph

MIB = 1 << 20


def run(*argv: str) -> str:
    """Run a tool; its standard output (fails the test with its stderr)."""
    done = subprocess.run(list(argv), capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"{' '.join(argv)}: {done.stderr}"
    return done.stdout


def raw_image(path: Path, size_mib: int, *, pattern: int, data_mib: int | None = None) -> Path:
    """A raw disk of ``size_mib`` whose first ``data_mib`` (default: all) hold ``pattern``."""
    run("qemu-img", "create", "-q", "-f", "raw", str(path), f"{size_mib}M")
    run("qemu-io", "-f", "raw", "-c", f"write -P {pattern:#x} 0 {data_mib or size_mib}M",
        str(path))
    return path


@dataclass
class BackendLab:
    """A backend, and the probes a test uses to check what it stored."""

    name: str
    backend: ImageBackend
    ceph: Ceph | None = None

    @property
    def qemu_format(self) -> str:
        """What qemu-io is told the export is."""
        return "qcow2" if self.backend.export_format == "qcow2" else "raw"

    def io(self, ref: ImageRef, command: str) -> str:
        """Run one qemu-io command (``write -P 0xab 0 64k``, ``read -P ...``) on ``ref``."""
        return run("qemu-io", "-f", self.qemu_format, "-c", command,
                   self.backend.export_uri(ref))

    def holds(self, ref: ImageRef, pattern: int, offset: str, length: str) -> bool:
        """Whether ``ref`` reads ``pattern`` over [offset, offset+length)."""
        out = subprocess.run(["qemu-io", "-f", self.qemu_format, "-c",
                              f"read -P {pattern:#x} {offset} {length}",
                              self.backend.export_uri(ref)],
                             capture_output=True, text=True, timeout=300, check=False)
        return out.returncode == 0 and "Pattern verification failed" not in out.stdout

    def allocated_bytes(self, ref: ImageRef) -> int:
        """Bytes the image itself occupies, its snapshots included (not what it shares with
        its parent)."""
        if self.ceph is None:
            return Path(self.backend.export_uri(ref)).stat().st_blocks * 512
        found = json.loads(self.ceph.run("rbd", "du", "--format", "json",
                                         f"{RBD_POOL}/{ref.key}"))
        return sum(int(image["used_size"]) for image in found["images"]
                   if image["name"] == ref.key)


@pytest.fixture
def image_settings(settings: Settings, tmp_path: Path) -> Settings:
    """The test settings, with qcow2 images and uploads under the test's own directory
    (a module uses it as ``settings = image_settings``)."""
    return settings.model_copy(update={
        "image_backend": "qcow2",
        "image_backend_settings": {"qcow2": {"directory": str(tmp_path / "images")}},
        "image_staging_dir": tmp_path / "uploads"})


def qcow2_lab(directory: Path) -> BackendLab:
    """The qcow2 backend on files under ``directory``."""
    return BackendLab("qcow2", Qcow2Backend(Qcow2Backend.Settings(directory=directory)))


def rbd_lab(ceph: Ceph) -> BackendLab:
    """The RBD backend on the test cluster's ``rbd`` pool."""
    settings = RbdBackend.Settings(pool=RBD_POOL, conf=ceph.conf)
    return BackendLab("rbd", RbdBackend(settings), ceph)
