"""What the unauthenticated /boot routes tell whoever asks: the boot instructions of a node
mapped to an image now, and nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ocx.config import Settings
from ocx.drivers.power.fake import forget_fake_machines
from ocx.drivers.switch.fake import forget_fake_switches
from ocx.runtime import Runtime
from tests.integration.baremetal.support import Lab, build_lab, offer_and_lease
from tests.integration.images.provision_lab import (
    ImageStore,
    boot_settings,
    make_disk,
    store_fixture,
)
from tests.support.world import World

pytestmark = pytest.mark.images


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """A boot folder with a kernel and an initrd (their bytes do not matter here)."""
    files = tmp_path / "boot"
    files.mkdir()
    (files / "vmlinuz").write_bytes(b"KERNEL")
    (files / "initrd.img").write_bytes(b"INITRD")
    (tmp_path / "secret.txt").write_text("not for nodes")
    return boot_settings(database_url, tmp_path, boot_files=files, advertise="10.9.8.7")


@pytest.fixture
def store(runtime: Runtime, tmp_path: Path) -> Iterator[ImageStore]:
    """The image store (exports stopped afterwards)."""
    yield from store_fixture(runtime, tmp_path)


@pytest.fixture
def lab(client: TestClient, world: World, runtime: Runtime, store: ImageStore,
        tmp_path: Path) -> Iterator[Lab]:
    """n1 leased by proj-b and provisioned from a golden image; n2 idle."""
    lab = build_lab(client, world, runtime)
    offer_and_lease(lab, "n1")
    store.add_golden("debian-a", make_disk(tmp_path / "a.raw", b"GOLDEN-A"))
    lab.call("pi_b", "POST", "/nodes/n1/provision", {"image": "debian-a"}, expect=202)
    lab.drain()
    yield lab
    forget_fake_switches()
    forget_fake_machines()


def test_the_chain_script_fetches_the_nodes_own_script(client: TestClient) -> None:
    chain = client.get("/boot/chain.ipxe")
    assert chain.status_code == 200
    assert chain.text == "#!ipxe\nchain http://testserver/boot/${netX/mac:hexhyp}.ipxe\n"


def test_a_mapped_node_gets_its_kernel_initrd_and_root(lab: Lab, client: TestClient) -> None:
    export = lab.call("pi_b", "GET", "/nodes/n1/provision", expect=200)["export_uri"]
    assert export.startswith("nbd://10.9.8.7:")
    for mac in ("52-54-00-aa-00-01", "52:54:00:AA:00:01"):
        script = client.get(f"/boot/{mac}.ipxe")
        assert script.status_code == 200 and script.headers["cache-control"] == "no-store"
        lines = script.text.splitlines()
        assert lines[0] == "#!ipxe" and lines[-1] == "boot"
        assert lines[1].startswith("kernel http://testserver/boot/files/vmlinuz initrd=initrd.img")
        assert f"nbdroot={export.removeprefix('nbd://')}" in lines[1]
        assert "ip=${netX/ip}::${netX/gateway}:${netX/netmask}" in lines[1]
        assert lines[2] == "initrd http://testserver/boot/files/initrd.img"
    assert client.get("/boot/files/vmlinuz").content == b"KERNEL"


def test_unknown_unmapped_and_malformed_macs_get_one_answer(lab: Lab,
                                                            client: TestClient) -> None:
    answers = {client.get(f"/boot/{mac}.ipxe").text for mac in (
        "52-54-00-aa-00-02",  # n2: a known node, not mapped
        "02-00-00-00-00-99",  # no such NIC
        "not-a-mac", "52-54-00-aa-00-01-ff")}
    assert answers == {"#!ipxe\necho OCX: no image is mapped to this machine\nexit 1\n"}
    assert client.get("/boot/52-54-00-aa-00-02.ipxe").status_code == 404


def test_a_failed_or_released_mapping_serves_nothing(lab: Lab, client: TestClient) -> None:
    lab.call("pi_b", "POST", "/nodes/n1/unprovision", {}, expect=202)
    lab.drain()
    assert client.get("/boot/52-54-00-aa-00-01.ipxe").status_code == 404


def test_only_plain_files_of_the_boot_folder_are_served(client: TestClient) -> None:
    for name in ("../secret.txt", "..%2Fsecret.txt", ".hidden", "nope", "%2Fetc%2Fpasswd"):
        assert client.get(f"/boot/files/{name}").status_code == 404, name
    assert client.get("/boot/files/initrd.img").content == b"INITRD"


def test_the_boot_routes_are_not_in_the_api_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith("/boot")]
    assert "/api/v1/nodes/{node}/provision" in paths

