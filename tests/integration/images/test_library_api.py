"""The image library through the API, with the real qcow2 backend and operations run inline.

Uploads are streamed and checked against the SHA-256 the client announces; what
another project owns is never revealed (404); removal is refused while a node boots
from the image or clones depend on it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ocx.config import Settings
from ocx.domain.baremetal.models import Node, Site
from ocx.domain.images.models import Image, NodeImage
from ocx.domain.images.states import NodeImageState
from ocx.drivers.image import ImageRef
from ocx.drivers.image.qcow2 import Qcow2Backend
from ocx.runtime import Runtime
from tests.integration.baremetal.support import Lab
from tests.integration.images.backend_lab import MIB, image_settings, raw_image, run
from tests.servers.ceph import RBD_POOL, Ceph
from tests.support.world import World

pytestmark = pytest.mark.images
API = "/api/v1"
settings = image_settings


@pytest.fixture
def lab(client: TestClient, world: World, runtime: Runtime) -> Lab:
    """API calls as anyone of the world, and ``drain`` to run the journalled operations."""
    return Lab(client, world, runtime)


@pytest.fixture
def disk(tmp_path: Path) -> Path:
    """A 4 MiB raw disk whose first MiB holds 0x5a."""
    return raw_image(tmp_path / "disk.raw", 4, pattern=0x5A, data_mib=1)


def upload(client: TestClient, world: World, who: str, path: Path, name: str,
           project: str | None, sha256: str | None = None) -> Any:
    """POST the file's bytes as an upload; the response."""
    data = path.read_bytes()
    params = {"name": name, "sha256": sha256 or hashlib.sha256(data).hexdigest()}
    if project is not None:
        params["project"] = project
    return client.post(f"{API}/images", params=params, content=iter([data[:MIB], data[MIB:]]),
                       headers={**world[who].headers,
                                "Content-Type": "application/octet-stream"})


def uploaded(lab: Lab, path: Path, name: str, project: str | None = "org-a:proj-a",
             who: str = "pi_a") -> dict[str, Any]:
    """Upload and store an image; the image as the API then shows it."""
    response = upload(lab.client, lab.world, who, path, name, project)
    assert response.status_code == 202, response.text
    lab.drain()
    shown: dict[str, Any] = lab.call(who, "GET", f"/images/{response.json()['id']}", expect=200)
    return shown


def files(directory: Path) -> list[str]:
    """The names of the files under ``directory`` (none if it does not exist)."""
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_an_upload_is_checked_then_stored_as_a_golden_image(lab: Lab, disk: Path,
                                                            tmp_path: Path) -> None:
    response = upload(lab.client, lab.world, "pi_a", disk, "debian-12", "org-a:proj-a")

    assert response.status_code == 202, response.text
    accepted = response.json()
    assert (accepted["state"], accepted["kind"], accepted["public"]) == (
        "uploading", "golden", False)
    lab.drain()
    image = lab.call("member_a", "GET", "/images/proj-a/debian-12", expect=200)
    assert image["state"] == "available" and image["error"] is None
    assert image["size_bytes"] == 4 * MIB and image["format"] == "qcow2"
    assert image["checksum_sha256"] == hashlib.sha256(disk.read_bytes()).hexdigest()
    assert lab.operation(accepted["operation_id"])["state"] == "done"
    # The staged upload is gone; the backend holds the image with its bytes.
    assert files(tmp_path / "uploads") == []
    stored = tmp_path / "images" / f"img-{uuid.UUID(image['id']).hex}.qcow2"
    run("qemu-io", "-f", "qcow2", "-c", "read -P 0x5a 0 1M", str(stored))


def test_a_checksum_mismatch_is_refused_and_keeps_nothing(lab: Lab, disk: Path,
                                                          tmp_path: Path) -> None:
    response = upload(lab.client, lab.world, "pi_a", disk, "corrupt", "org-a:proj-a",
                      sha256="0" * 64)

    assert response.status_code == 422
    assert response.json()["error"]["type"] == "invalid_input"
    assert "checksum mismatch" in response.json()["error"]["message"]
    assert lab.call("pi_a", "GET", "/images", expect=200)["items"] == []
    assert files(tmp_path / "uploads") == [] and files(tmp_path / "images") == []
    with lab.runtime.sessions() as session:
        assert session.query(Image).count() == 0


def test_an_unknown_image_is_404(lab: Lab) -> None:
    for method, path in (("GET", "/images/nothing"), ("DELETE", "/images/nothing"),
                         ("GET", f"/images/{uuid.uuid4()}")):
        assert lab.call("pi_a", method, path, expect=404)["error"]["type"] == "not_found"
    body = {"source": "nothing", "name": "copy", "project": "org-a:proj-a"}
    lab.call("pi_a", "POST", "/images/clones", body, expect=404)


def test_an_image_that_is_no_image_fails_with_the_reason(lab: Lab, tmp_path: Path) -> None:
    host_file = raw_image(tmp_path / "host.raw", 1, pattern=0x77)
    sneaky = tmp_path / "sneaky.qcow2"
    run("qemu-img", "create", "-q", "-f", "qcow2", "-b", str(host_file), "-F", "raw",
        str(sneaky))

    image = uploaded(lab, sneaky, "sneaky")

    assert image["state"] == "error" and "backing file" in image["error"]
    assert files(tmp_path / "uploads") == [] and files(tmp_path / "images") == []
    lab.call("pi_a", "DELETE", f"/images/{image['id']}", expect=202)
    lab.drain()
    lab.call("pi_a", "GET", f"/images/{image['id']}", expect=404)


def test_projects_never_see_each_others_images(lab: Lab, disk: Path) -> None:
    private = uploaded(lab, disk, "private-a")
    public = uploaded(lab, disk, "shared", project=None, who="operator")

    for who in ("member_b", "pi_b", "admin_b", "outsider"):
        lab.call(who, "GET", f"/images/{private['id']}", expect=404)
        lab.call(who, "GET", "/images/org-a:proj-a/private-a", expect=404)
        lab.call(who, "DELETE", f"/images/{private['id']}", expect=404)
        names = [i["name"] for i in lab.call(who, "GET", "/images", expect=200)["items"]]
        assert names == ["shared"]
        assert lab.call(who, "GET", "/images/shared", expect=200)["public"] is True
    own = [i["name"] for i in lab.call("member_a", "GET", "/images", expect=200)["items"]]
    assert sorted(own) == ["private-a", "shared"]
    # Only operators publish and remove public images; a project's members only read.
    lab.call("pi_a", "DELETE", f"/images/{public['id']}", expect=403)
    assert upload(lab.client, lab.world, "admin_a", disk, "mine", None).status_code == 403
    assert upload(lab.client, lab.world, "member_a", disk, "x", "org-a:proj-a"
                  ).status_code == 403
    assert upload(lab.client, lab.world, "pi_b", disk, "x", "org-a:proj-a").status_code == 404


def test_names_are_unique_per_project_and_among_public_images(lab: Lab, disk: Path) -> None:
    uploaded(lab, disk, "base")
    uploaded(lab, disk, "base", project="org-b:proj-b", who="pi_b")
    uploaded(lab, disk, "base", project=None, who="operator")

    again = upload(lab.client, lab.world, "pi_a", disk, "base", "org-a:proj-a")

    assert again.status_code == 409 and "already" in again.json()["error"]["message"]
    # A bare name prefers the caller's project, then the public image.
    assert lab.call("pi_a", "GET", "/images/base", expect=200)["project"] == "org-a:proj-a"
    assert lab.call("outsider", "GET", "/images/base", expect=200)["public"] is True


def test_a_clone_depends_on_its_image_until_removed(lab: Lab, disk: Path,
                                                   tmp_path: Path) -> None:
    golden = uploaded(lab, disk, "golden", project=None, who="operator")
    body = {"source": "golden", "name": "tuned", "project": "org-a:proj-a"}

    accepted = lab.call("manager_a", "POST", "/images/clones", body, expect=202)
    lab.drain()

    clone = lab.call("member_a", "GET", f"/images/{accepted['id']}", expect=200)
    assert (clone["state"], clone["kind"], clone["parent"]) == ("available", "clone", "golden")
    assert clone["size_bytes"] == golden["size_bytes"]
    refused = lab.call("operator", "DELETE", "/images/golden", expect=409)
    assert "depend on it" in refused["error"]["message"]
    lab.call("member_a", "DELETE", f"/images/{clone['id']}", expect=403)
    lab.call("manager_a", "DELETE", f"/images/{clone['id']}", expect=202)
    lab.drain()
    lab.call("operator", "DELETE", "/images/golden", expect=202)
    lab.drain()
    assert lab.call("operator", "GET", "/images", expect=200)["items"] == []
    assert files(tmp_path / "images") == []


def _node_using(runtime: Runtime, world: World, image_id: str, clone_ref: str | None,
                state: NodeImageState = NodeImageState.ACTIVE) -> str:
    """A node of org-a whose disk is a clone of the image (as provisioning leaves it)."""
    with runtime.sessions() as session, session.begin():
        site = Site(name="site-img", vlan_min=100, vlan_max=199)
        node = Node(site=site, owner_org_id=uuid.UUID(world.org_ids["a"]), name="n1",
                    resource_class="gpu", power_driver="fake", power_settings={})
        session.add(NodeImage(node=node, image_id=uuid.UUID(image_id), backend="qcow2",
                              project_id=uuid.UUID(world.project_ids["a"]),
                              clone_ref=clone_ref, state=state))
    return "n1"


def test_an_image_a_node_boots_from_cannot_be_removed(lab: Lab, disk: Path) -> None:
    golden = uploaded(lab, disk, "golden")
    _node_using(lab.runtime, lab.world, golden["id"], None)

    refused = lab.call("pi_a", "DELETE", "/images/golden", expect=409)

    assert "in use by node(s) n1" in refused["error"]["message"]
    assert lab.call("pi_a", "GET", "/images/golden", expect=200)["in_use_by"] == ["n1"]


def test_a_snapshot_of_a_nodes_disk_is_a_new_image(lab: Lab, disk: Path, tmp_path: Path,
                                                   settings: Settings) -> None:
    golden = uploaded(lab, disk, "golden")
    backend = Qcow2Backend(Qcow2Backend.Settings(directory=tmp_path / "images"))
    node_disk = backend.clone(ImageRef(f"img-{uuid.UUID(golden['id']).hex}.qcow2"), "n1-disk")
    run("qemu-io", "-f", "qcow2", "-c", "write -P 0xcd 2M 1M", backend.export_uri(node_disk))
    node = _node_using(lab.runtime, lab.world, golden["id"], node_disk.key)

    accepted = lab.call("operator", "POST", "/images/snapshots",
                        {"node": node, "name": "n1-work"}, expect=202)
    lab.drain()

    snap = lab.call("pi_a", "GET", "/images/n1-work", expect=200)
    assert (snap["state"], snap["kind"], snap["parent_id"]) == (
        "available", "snapshot", golden["id"])
    assert snap["project"] == "org-a:proj-a" and accepted["id"] == snap["id"]
    stored = tmp_path / "images" / f"img-{uuid.UUID(snap['id']).hex}.qcow2"
    run("qemu-io", "-f", "qcow2", "-c", "read -P 0xcd 2M 1M", str(stored))
    run("qemu-io", "-f", "qcow2", "-c", "read -P 0x5a 0 1M", str(stored))
    # Its user must be the node's: a project member of b may not snapshot it.
    lab.call("pi_b", "POST", "/images/snapshots", {"node": node, "name": "steal"}, expect=403)


def test_a_node_without_a_disk_has_nothing_to_snapshot(lab: Lab, disk: Path) -> None:
    golden = uploaded(lab, disk, "golden")
    node = _node_using(lab.runtime, lab.world, golden["id"], None)

    refused = lab.call("operator", "POST", "/images/snapshots",
                       {"node": node, "name": "empty"}, expect=409)

    assert "boots from no clone" in refused["error"]["message"]


@pytest.mark.ceph
def test_the_library_on_ceph_rbd(lab: Lab, disk: Path, ceph: Ceph, tmp_path: Path) -> None:
    lab.runtime.settings.image_backend_settings["rbd"] = {"pool": RBD_POOL,
                                                          "conf": str(ceph.conf)}
    data = disk.read_bytes()
    response = lab.client.post(f"{API}/images", content=data, params={
        "name": "on-ceph", "project": "org-a:proj-a", "backend": "rbd",
        "sha256": hashlib.sha256(data).hexdigest()}, headers=lab.world["pi_a"].headers)
    assert response.status_code == 202, response.text
    lab.drain()
    golden = lab.call("pi_a", "GET", "/images/on-ceph", expect=200)
    lab.call("pi_a", "POST", "/images/clones",
             {"source": "on-ceph", "name": "ceph-clone", "project": "org-a:proj-a"}, expect=202)
    lab.drain()
    clone = lab.call("pi_a", "GET", "/images/ceph-clone", expect=200)

    assert (golden["backend"], golden["format"], golden["state"]) == ("rbd", "rbd", "available")
    assert golden["size_bytes"] == clone["size_bytes"] == 4 * MIB
    names = {f"img-{uuid.UUID(image['id']).hex}" for image in (golden, clone)}
    assert names <= set(json.loads(ceph.run("rbd", "ls", "--format", "json", RBD_POOL)))
    run("qemu-io", "-f", "raw", "-c", "read -P 0x5a 0 1M",
        f"rbd:{RBD_POOL}/img-{uuid.UUID(clone['id']).hex}:conf={ceph.conf}")
    for image in (clone, golden):
        lab.call("pi_a", "DELETE", f"/images/{image['id']}", expect=202)
        lab.drain()
    assert names.isdisjoint(json.loads(ceph.run("rbd", "ls", "--format", "json", RBD_POOL)))
    assert files(tmp_path / "uploads") == []


def test_a_clone_that_fails_leaves_nothing_in_the_backend(lab: Lab, disk: Path,
                                                         tmp_path: Path) -> None:
    golden = uploaded(lab, disk, "golden")
    stored = tmp_path / "images" / f"img-{uuid.UUID(golden['id']).hex}.qcow2"
    stored.unlink()  # the store lost it

    accepted = lab.call("pi_a", "POST", "/images/clones",
                        {"source": "golden", "name": "copy", "project": "org-a:proj-a"},
                        expect=202)
    lab.drain()

    clone = lab.call("pi_a", "GET", f"/images/{accepted['id']}", expect=200)
    assert clone["state"] == "error" and "does not exist" in clone["error"]
    assert lab.operation(accepted["operation_id"])["state"] == "failed"
    assert files(tmp_path / "images") == []
