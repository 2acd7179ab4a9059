"""The image backend contract, one test body for qcow2 files and for Ceph RBD.

Clones are copy-on-write (writes to a clone leave the golden image untouched) and O(1):
a clone occupies the same few bytes whatever the size of the image it clones, while a
full copy grows with it. Snapshots outlive the clone they were taken from; deleting is
idempotent.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocx.drivers.image import ImageRef
from ocx.errors import PermanentDriverError
from tests.integration.images.backend_lab import MIB, BackendLab, qcow2_lab, raw_image, rbd_lab, run
from tests.servers.ceph import Ceph

pytestmark = pytest.mark.images


@pytest.fixture(params=["qcow2", pytest.param("rbd", marks=pytest.mark.ceph)])
def lab(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BackendLab]:
    """Each backend in turn; RBD on the session's Ceph cluster."""
    if request.param == "qcow2":
        yield qcow2_lab(tmp_path / "images")
        return
    ceph: Ceph = request.getfixturevalue("ceph")
    yield rbd_lab(ceph)


def _name(what: str) -> str:
    return f"{what}-{uuid.uuid4().hex[:8]}"


def _golden(lab: BackendLab, tmp_path: Path, size_mib: int = 8, pattern: int = 0x11) -> ImageRef:
    source = raw_image(tmp_path / f"{uuid.uuid4().hex}.raw", size_mib, pattern=pattern)
    return lab.backend.import_image(_name("golden"), source)


def test_import_keeps_the_bytes_and_reports_the_virtual_size(lab: BackendLab,
                                                             tmp_path: Path) -> None:
    golden = _golden(lab, tmp_path, size_mib=8, pattern=0x5A)

    assert lab.backend.size(golden) == 8 * MIB
    assert lab.holds(golden, 0x5A, "0", "8M")


def test_import_of_a_qcow2_upload_and_again_is_the_same_image(lab: BackendLab,
                                                              tmp_path: Path) -> None:
    raw = raw_image(tmp_path / "disk.raw", 4, pattern=0x42, data_mib=1)
    qcow2 = tmp_path / "disk.qcow2"
    run("qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(qcow2))
    name = _name("from-qcow2")

    first = lab.backend.import_image(name, qcow2)
    qcow2.unlink()  # a worker that crashed after importing removed the upload, or not
    again = lab.backend.import_image(name, qcow2)

    assert first == again
    assert lab.backend.size(first) == 4 * MIB
    assert lab.holds(first, 0x42, "0", "1M") and lab.holds(first, 0, "1M", "3M")


def test_a_qcow2_upload_with_a_backing_file_is_refused(lab: BackendLab, tmp_path: Path) -> None:
    # A backing file would make the import read any file of the host into the image.
    secret = raw_image(tmp_path / "host-file.raw", 1, pattern=0x77)
    sneaky = tmp_path / "sneaky.qcow2"
    run("qemu-img", "create", "-q", "-f", "qcow2", "-b", str(secret), "-F", "raw", str(sneaky))

    with pytest.raises(PermanentDriverError, match="backing file"):
        lab.backend.import_image(_name("sneaky"), sneaky)


def test_writes_to_a_clone_leave_the_golden_image_untouched(lab: BackendLab,
                                                            tmp_path: Path) -> None:
    golden = _golden(lab, tmp_path, size_mib=8, pattern=0x11)
    clone = lab.backend.clone(golden, _name("clone"))

    lab.io(clone, "write -P 0xab 1M 2M")

    assert lab.holds(clone, 0xAB, "1M", "2M") and lab.holds(clone, 0x11, "0", "1M")
    assert lab.holds(golden, 0x11, "0", "8M")
    assert lab.backend.size(clone) == 8 * MIB


def test_a_clone_costs_the_same_whatever_the_image_size(lab: BackendLab,
                                                        tmp_path: Path) -> None:
    small = _golden(lab, tmp_path, size_mib=4, pattern=0x21)
    large = _golden(lab, tmp_path, size_mib=32, pattern=0x22)

    small_clone = lab.backend.clone(small, _name("small-clone"))
    large_clone = lab.backend.clone(large, _name("large-clone"))

    # The golden images occupy what they hold; their clones nothing of it.
    assert lab.allocated_bytes(small) >= 4 * MIB and lab.allocated_bytes(large) >= 32 * MIB
    assert lab.allocated_bytes(large_clone) == lab.allocated_bytes(small_clone)
    assert lab.allocated_bytes(large_clone) < MIB
    assert lab.holds(large_clone, 0x22, "0", "32M")


def test_a_snapshot_freezes_the_clone_and_outlives_it(lab: BackendLab, tmp_path: Path) -> None:
    golden = _golden(lab, tmp_path, size_mib=8, pattern=0x11)
    clone = lab.backend.clone(golden, _name("disk"))
    lab.io(clone, "write -P 0xcd 0 1M")

    snapshot = lab.backend.snapshot(clone, _name("snap"))
    lab.io(clone, "write -P 0xee 0 1M")
    lab.backend.delete(clone)

    assert lab.holds(snapshot, 0xCD, "0", "1M") and lab.holds(snapshot, 0x11, "1M", "7M")
    assert lab.holds(golden, 0x11, "0", "8M")
    # A snapshot is an image like any other: it can be cloned in turn.
    again = lab.backend.clone(snapshot, _name("from-snap"))
    assert lab.holds(again, 0xCD, "0", "1M")


def test_delete_is_idempotent(lab: BackendLab, tmp_path: Path) -> None:
    golden = _golden(lab, tmp_path)
    clone = lab.backend.clone(golden, _name("clone"))

    lab.backend.delete(clone)
    lab.backend.delete(clone)
    lab.backend.delete(golden)
    lab.backend.delete(golden)

    with pytest.raises(PermanentDriverError, match="does not exist"):
        lab.backend.size(golden)
    with pytest.raises(PermanentDriverError, match="does not exist"):
        lab.backend.export_uri(clone)


@pytest.mark.ceph
def test_rbd_refuses_to_delete_a_golden_image_with_clones(ceph: Ceph, tmp_path: Path) -> None:
    lab = rbd_lab(ceph)
    golden = _golden(lab, tmp_path)
    clone = lab.backend.clone(golden, _name("clone"))

    with pytest.raises(PermanentDriverError, match="still has clones"):
        lab.backend.delete(golden)

    assert lab.holds(clone, 0x11, "0", "8M")
    lab.backend.delete(clone)
    lab.backend.delete(golden)
