"""The exporter contract, against qemu-nbd itself and against the fake: idempotent export,
inspect, list and unexport; clear permanent errors for what cannot be served."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocx.drivers.export import Exporter, SourceFormat
from ocx.drivers.export.fake import FakeExporter, forget_fake_exports
from ocx.drivers.export.nbd import QemuNbdExporter, rbd_supported
from ocx.errors import PermanentDriverError
from tests.integration.images.backend_lab import rbd_lab
from tests.integration.images.provision_lab import make_disk, read_export
from tests.servers.ceph import Ceph

pytestmark = pytest.mark.images


@pytest.fixture(params=["nbd", "fake"])
def exporter(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Exporter]:
    """qemu-nbd on a private port range, or the fake."""
    if request.param == "fake":
        yield FakeExporter(FakeExporter.Settings())
        forget_fake_exports()
        return
    real = QemuNbdExporter(QemuNbdExporter.Settings(
        state_dir=tmp_path / "exports", port_min=31700, port_max=31799))
    yield real
    for export in real.list_exports():
        real.unexport(export.name)


@pytest.fixture
def image(tmp_path: Path) -> Path:
    """A qcow2 image whose disk starts with ``HELLO``."""
    raw = make_disk(tmp_path / "disk.raw", b"HELLO", size_mib=4)
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw),
                    str(tmp_path / "disk.qcow2")], check=True)
    return tmp_path / "disk.qcow2"


def test_export_is_idempotent_and_unexport_too(exporter: Exporter, image: Path) -> None:
    first = exporter.export("n-1", str(image), SourceFormat.QCOW2)
    assert exporter.export("n-1", str(image), SourceFormat.QCOW2) == first
    assert exporter.inspect("n-1") == first
    assert [e.name for e in exporter.list_exports()] == ["n-1"]
    assert first.uri == f"nbd://{first.host}:{first.port}/n-1"
    exporter.unexport("n-1")
    exporter.unexport("n-1")
    assert exporter.inspect("n-1") is None and exporter.list_exports() == []


def test_a_name_serves_one_source(exporter: Exporter, image: Path, tmp_path: Path) -> None:
    exporter.export("n-1", str(image), SourceFormat.QCOW2)
    other = tmp_path / "other.qcow2"
    other.write_bytes(image.read_bytes())
    with pytest.raises(PermanentDriverError, match="already serves"):
        exporter.export("n-1", str(other), SourceFormat.QCOW2)


def test_qemu_nbd_serves_the_image_to_clients(tmp_path: Path, image: Path) -> None:
    exporter = QemuNbdExporter(QemuNbdExporter.Settings(
        state_dir=tmp_path / "exports", port_min=31800, port_max=31899))
    try:
        export = exporter.export("n-2", str(image), SourceFormat.QCOW2)
        assert read_export(export.uri, 5) == b"HELLO"
        # A server killed behind OCX's back is started again on the same port.
        assert export.pid is not None
        os.kill(export.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while exporter.inspect("n-2") is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert exporter.inspect("n-2") is None
        again = exporter.export("n-2", str(image), SourceFormat.QCOW2)
        assert again.port == export.port and again.pid != export.pid
        assert read_export(again.uri, 5) == b"HELLO"
    finally:
        exporter.unexport("n-2")
    assert not list((tmp_path / "exports").iterdir())


def test_what_cannot_be_served_is_a_permanent_error(tmp_path: Path) -> None:
    exporter = QemuNbdExporter(QemuNbdExporter.Settings(
        state_dir=tmp_path / "exports", port_min=31900, port_max=31999))
    with pytest.raises(PermanentDriverError, match="does not exist"):
        exporter.export("n-3", str(tmp_path / "missing.qcow2"), SourceFormat.QCOW2)
    garbage = tmp_path / "garbage.qcow2"
    garbage.write_bytes(b"QFI\xfb" + b"\xff" * 4096)
    with pytest.raises(PermanentDriverError, match="qemu-nbd cannot export"):
        exporter.export("n-3", str(garbage), SourceFormat.QCOW2)
    with pytest.raises(PermanentDriverError, match="invalid export name"):
        exporter.export("../etc", str(garbage), SourceFormat.QCOW2)
    assert exporter.list_exports() == []


def test_rbd_sources_need_qemus_rbd_driver(tmp_path: Path) -> None:
    exporter = QemuNbdExporter(QemuNbdExporter.Settings(
        state_dir=tmp_path / "exports", port_min=32000, port_max=32099))
    # qemu-block-extra is installed here: qemu-nbd opens rbd: and fails only for want of
    # a cluster (the Ceph tests export real RBD clones).
    assert rbd_supported()
    with pytest.raises(PermanentDriverError, match="qemu-nbd cannot export"):
        exporter.export("n-4", "rbd:nopool/noimage:conf=/nonexistent.conf", SourceFormat.RBD)
    with pytest.raises(PermanentDriverError, match="rbd:pool/image"):
        exporter.export("n-4", "/some/file", SourceFormat.RBD)


@pytest.mark.ceph
def test_qemu_nbd_serves_a_ceph_rbd_clone(ceph: Ceph, tmp_path: Path) -> None:
    lab = rbd_lab(ceph)
    raw = make_disk(tmp_path / "golden.raw", b"GOLDEN-RBD", size_mib=4)
    golden = lab.backend.import_image(f"golden-{uuid.uuid4().hex[:8]}", raw)
    clone = lab.backend.clone(golden, f"node-{uuid.uuid4().hex[:8]}")
    exporter = QemuNbdExporter(QemuNbdExporter.Settings(
        state_dir=tmp_path / "exports", port_min=32100, port_max=32199))
    try:
        export = exporter.export("n-5", lab.backend.export_uri(clone), SourceFormat.RBD)
        assert read_export(export.uri, 10) == b"GOLDEN-RBD"
        # What the node writes lands in its clone; the golden image is untouched.
        subprocess.run(["qemu-io", "-f", "raw", "-c", "write -P 0x42 0 512", export.uri],
                       check=True, capture_output=True, timeout=60)
        assert read_export(export.uri, 4) == b"BBBB"
        assert lab.holds(golden, 0x47, "0", "1")  # "G"
    finally:
        exporter.unexport("n-5")
        lab.backend.delete(clone)
        lab.backend.delete(golden)
