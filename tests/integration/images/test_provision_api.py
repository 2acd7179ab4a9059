"""Provisioning leased nodes from images: a real qcow2 store (qemu-img) and real NBD exports
(qemu-nbd), fake BMCs. Each step of the operation is checked from outside: the files in
the store, the export a client can read, the boot script a node fetches, the BMC calls."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ocx.config import Settings
from ocx.domain.images.models import Image
from ocx.domain.images.states import ImageKind, ImageState, NodeImageState
from ocx.domain.operations.models import Operation
from ocx.drivers.export.nbd import QemuNbdExporter
from ocx.drivers.power.fake import fake_machine, forget_fake_machines
from ocx.drivers.switch.fake import forget_fake_switches
from ocx.runtime import Runtime
from tests.integration.baremetal.support import Lab, build_lab, offer_and_lease
from tests.integration.images.provision_lab import (
    ImageStore,
    boot_settings,
    make_disk,
    node_id,
    read_export,
    store_fixture,
)
from tests.support.world import World

pytestmark = pytest.mark.images
MAC_N1 = "52:54:00:aa:00:01"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The integration settings, with a qcow2 store and a qemu-nbd exporter."""
    return boot_settings(database_url, tmp_path)


@pytest.fixture
def store(runtime: Runtime, tmp_path: Path) -> Iterator[ImageStore]:
    """The test's image store (exports stopped afterwards)."""
    yield from store_fixture(runtime, tmp_path)


@pytest.fixture
def lab(client: TestClient, world: World, runtime: Runtime) -> Iterator[Lab]:
    """Nodes n1 and n2 of org-a with fake BMCs; n1 leased by proj-b."""
    lab = build_lab(client, world, runtime)
    offer_and_lease(lab, "n1")
    yield lab
    forget_fake_switches()
    forget_fake_machines()


@pytest.fixture
def golden(store: ImageStore, tmp_path: Path) -> Image:
    """A public golden image whose disk starts with ``GOLDEN-A``."""
    return store.add_golden("debian-a", make_disk(tmp_path / "a.raw", b"GOLDEN-A"))


def provision(lab: Lab, image: str, who: str = "pi_b", expect: int = 202,
              **extra: Any) -> dict[str, Any]:
    """Ask for ``image`` on n1 as ``who``; run the operation; the answer."""
    answer: dict[str, Any] = lab.call(who, "POST", "/nodes/n1/provision",
                                      {"image": image, **extra}, expect=expect)
    lab.drain()
    return answer


def test_provision_clones_exports_and_boots_the_node(lab: Lab, store: ImageStore,
                                                     golden: Image, client: TestClient) -> None:
    op = provision(lab, "debian-a")
    done = lab.operation(op["id"])
    assert done["state"] == "done", done
    disk = lab.call("pi_b", "GET", "/nodes/n1/provision", expect=200)
    assert (disk["image"], disk["state"]) == ("debian-a", "active")
    # The clone is an O(1) overlay of the golden image, served over NBD as the golden bytes.
    assert len(store.files()) == 2
    assert read_export(disk["export_uri"], 8) == b"GOLDEN-A"
    # The node's script boots that export; the BMC was told to PXE-boot and cycled.
    script = client.get(f"/boot/{MAC_N1.replace(':', '-')}.ipxe")
    assert script.status_code == 200
    export = disk["export_uri"].removeprefix("nbd://")
    assert f"nbdroot={export}" in script.text and script.text.startswith("#!ipxe\n")
    assert "n1" not in script.text.replace(export, "") and "debian" not in script.text
    machine = fake_machine(f"{lab.switch_key}-n1")
    assert machine.calls[-2:] == ["set_boot_device:pxe", "set_power:cycle"]
    assert lab.node("n1", "pi_b")["boot_device"] == "pxe"


def test_remap_to_another_image_in_one_command(lab: Lab, store: ImageStore, golden: Image,
                                               tmp_path: Path) -> None:
    store.add_golden("debian-b", make_disk(tmp_path / "b.raw", b"GOLDEN-B"))
    provision(lab, "debian-a")
    first = lab.call("pi_b", "GET", "/nodes/n1/provision", expect=200)["export_uri"]
    op = provision(lab, "debian-b")
    assert lab.operation(op["id"])["state"] == "done"
    second = lab.call("pi_b", "GET", "/nodes/n1/provision", expect=200)
    assert second["image"] == "debian-b" and second["export_uri"] != first
    assert read_export(second["export_uri"], 8) == b"GOLDEN-B"
    # The first clone and its export are gone: two goldens and one clone remain.
    assert len(store.files()) == 3
    assert [e.uri for e in store.exporter.list_exports()] == [second["export_uri"]]


def test_remap_powers_off_first_and_keeps_the_previous_disk_when_asked(
        lab: Lab, store: ImageStore, golden: Image, runtime: Runtime) -> None:
    provision(lab, "debian-a", keep_snapshot=True)
    provision(lab, "debian-a")
    calls = fake_machine(f"{lab.switch_key}-n1").calls
    assert calls[-3:] == ["set_power:off", "set_boot_device:pxe", "set_power:cycle"]
    with runtime.sessions() as session, session.begin():
        kept = session.scalars(select(Image).where(Image.kind == ImageKind.SNAPSHOT)).all()
        found = [(i.project_id, i.parent_id) for i in kept]
        for image in kept:
            session.delete(image)
    assert found == [(uuid.UUID(lab.world.project_ids["b"]), golden.id)]
    assert len(store.files()) == 3  # golden, the kept snapshot, the new clone
    assert len(store.exporter.list_exports()) == 1


def test_lease_end_unexports_and_removes_the_clone(lab: Lab, store: ImageStore,
                                                  golden: Image, client: TestClient) -> None:
    provision(lab, "debian-a")
    lease = lab.call("pi_b", "GET", "/leases", node="n1")["items"][0]
    lab.call("pi_b", "POST", f"/leases/{lease['id']}/cancel", expect=200)
    lab.drain()
    assert store.disk(node_id(lab, "n1")) is None
    assert store.exporter.list_exports() == []
    assert len(store.files()) == 1  # the golden image only
    assert client.get(f"/boot/{MAC_N1}.ipxe").status_code == 404
    assert fake_machine(f"{lab.switch_key}-n1").power.value == "off"


def test_keep_snapshot_at_release_keeps_the_disk_as_a_project_image(
        lab: Lab, store: ImageStore, golden: Image, runtime: Runtime) -> None:
    provision(lab, "debian-a", keep_snapshot=True)
    op = lab.call("pi_b", "POST", "/nodes/n1/unprovision", {}, expect=202)
    lab.drain()
    assert lab.operation(op["id"])["state"] == "done"
    with runtime.sessions() as session, session.begin():
        kept = session.scalars(select(Image).where(Image.kind == ImageKind.SNAPSHOT)).all()
        found = [(i.project_id, i.state, i.parent_id) for i in kept]
        for image in kept:  # children first: the suite's cleanup empties tables in bulk
            session.delete(image)
    assert found == [(uuid.UUID(lab.world.project_ids["b"]), ImageState.AVAILABLE, golden.id)]
    assert store.exporter.list_exports() == [] and store.disk(node_id(lab, "n1")) is None
    assert len(store.files()) == 2  # golden + the snapshot; the clone is gone


def test_provisioning_a_node_you_do_not_lease_is_forbidden(lab: Lab, golden: Image,
                                                           store: ImageStore) -> None:
    for who in ("pi_a", "admin_a", "member_a"):  # even the owner, during the lease
        lab.call(who, "POST", "/nodes/n1/provision", {"image": "debian-a"}, expect=403)
    lab.call("pi_b", "POST", "/nodes/n2/provision", {"image": "debian-a"}, expect=403)
    assert store.files() == {Path(golden.backend_ref or "").name}


def test_unknown_image_is_404_and_nothing_is_journalled(lab: Lab, store: ImageStore,
                                                        runtime: Runtime) -> None:
    error = lab.call("pi_b", "POST", "/nodes/n1/provision", {"image": "nope"}, expect=404)
    assert error["error"]["message"] == "image not found"
    with runtime.sessions() as session:
        kinds = session.scalars(select(Operation.kind)).all()
    assert "images.node.provision" not in kinds


def test_image_that_failed_its_checksum_is_refused(lab: Lab, store: ImageStore,
                                                   tmp_path: Path) -> None:
    store.add_golden("broken", make_disk(tmp_path / "c.raw", b"X"), state=ImageState.ERROR)
    error = lab.call("pi_b", "POST", "/nodes/n1/provision", {"image": "broken"}, expect=409)
    assert "not available" in error["error"]["message"]
    assert store.exporter.list_exports() == []


def test_corrupt_image_file_fails_clearly_and_exports_nothing(
        lab: Lab, store: ImageStore, golden: Image) -> None:
    path = store.folder / "images" / (golden.backend_ref or "")
    with path.open("r+b") as image:  # the qcow2 header's cluster bits: now invalid
        image.seek(20)
        image.write(b"\xff\xff\xff\xff")
    op = provision(lab, "debian-a")
    failed = lab.operation(op["id"])
    assert failed["state"] == "failed" and "debian" not in failed["last_error"]
    assert failed["last_error"], failed
    disk = lab.call("pi_b", "GET", "/nodes/n1/provision", expect=200)
    assert (disk["state"], disk["export_uri"]) == ("failed", None)
    assert store.exporter.list_exports() == [] and store.files() == {path.name}
    assert fake_machine(f"{lab.switch_key}-n1").calls == []  # never booted


@pytest.mark.parametrize(("setting", "error"), [
    # qemu-nbd exits with an error: permanent, undone at once.
    ({"qemu_nbd": "/bin/false"}, "qemu-nbd cannot export"),
    # no port can be bound on an address the machine lacks: retried, undone on the last try.
    ({"bind": "192.0.2.77"}, "no free NBD port"),
])
def test_an_export_that_fails_half_way_leaves_no_clone(
        lab: Lab, store: ImageStore, golden: Image, runtime: Runtime,
        setting: dict[str, str], error: str) -> None:
    # The clone is made, then the export fails for good: the clone must go.
    runtime.settings.export_settings.update(setting)
    op = provision(lab, "debian-a")
    failed = lab.operation(op["id"])
    assert failed["state"] == "failed" and error in failed["last_error"], failed
    assert store.files() == {Path(golden.backend_ref or "").name}
    disk = store.disk(node_id(lab, "n1"))
    assert disk is not None and disk.state is NodeImageState.FAILED
    assert (disk.clone_ref, disk.export_name, disk.export_uri) == (None, None, None)


def test_a_crash_after_cloning_resumes_without_a_second_clone(
        lab: Lab, store: ImageStore, golden: Image, monkeypatch: pytest.MonkeyPatch) -> None:
    real_export = QemuNbdExporter.export
    crashes = []

    def crash_once(self: QemuNbdExporter, *args: Any) -> Any:
        if not crashes:
            crashes.append(args[0])
            raise RuntimeError("worker killed")  # not a driver error: retried, nothing undone
        return real_export(self, *args)

    monkeypatch.setattr(QemuNbdExporter, "export", crash_once)
    op = provision(lab, "debian-a")
    done = lab.operation(op["id"])
    assert done["state"] == "done" and done["attempts"] == 2
    assert len(store.files()) == 2  # one golden, one clone: the retry reused the clone
    disk = lab.call("pi_b", "GET", "/nodes/n1/provision", expect=200)
    assert disk["export_uri"].endswith("/" + crashes[0])
    assert read_export(disk["export_uri"], 8) == b"GOLDEN-A"
