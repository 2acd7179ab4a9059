"""The image rows of the RBAC matrix (``IMAGE_CASES``, in test_rbac_matrix.py).

``setup`` gives side "a" or "b" a private image of proj-<s> (``img-<s>``, available, to
read, clone and remove), a public image (``pub-<s>``), and a node of org-<s>, not leased,
whose disk (a clone of the public image made for proj-<s>) can be snapshotted. Rows are
written directly; images get fixed ids so that request bodies can name them. Uploads go
to a staging directory of their own (the import is never run here).
"""

from __future__ import annotations

import hashlib
import tempfile
import uuid
from pathlib import Path
from typing import Any

import httpx

from ocx.domain.baremetal.models import Node, Site
from ocx.domain.images.models import Image, NodeImage
from ocx.domain.images.states import ImageState, NodeImageState
from ocx.runtime import Runtime
from tests.support.rbac import LEADS, PROJECT_PEOPLE, Case, everyone, only
from tests.support.world import World

NS = uuid.UUID("0f4c7b1e-5a0e-4c43-9a55-3d1f0e6b7a21")
UPLOAD_BODY = {"bytes": "of an image"}
# What the matrix's client sends for UPLOAD_BODY (JSON), and so what the upload hashes to.
UPLOAD_SHA256 = hashlib.sha256(
    httpx.Request("POST", "http://x", json=UPLOAD_BODY).content).hexdigest()


# One staging directory for the whole matrix: its uploads are a few bytes each.
UPLOADS = Path(tempfile.gettempdir()) / "ocx-rbac-uploads"


def image_id(what: str, side: str) -> str:
    """The id ``setup`` gives image ``what`` (img, pub) on side ``side``."""
    return str(uuid.uuid5(NS, f"{what}-{side}"))


def _image(what: str, s: str, project_id: uuid.UUID | None) -> Image:
    return Image(id=uuid.UUID(image_id(what, s)), project_id=project_id, name=f"{what}-{s}",
                 backend="fake", backend_ref=f"{what}-{s}", format="qcow2", size_bytes=1 << 20,
                 state=ImageState.AVAILABLE)


def setup(runtime: Runtime, world: World, s: str) -> dict[str, str]:
    """Side ``s``'s images and node (see the module docstring); the path values."""
    runtime.settings.image_staging_dir = UPLOADS
    org, project = uuid.UUID(world.org_ids[s]), uuid.UUID(world.project_ids[s])
    with runtime.sessions() as session, session.begin():
        public = _image("pub", s, None)
        session.add_all([_image("img", s, project), public])
        node = Node(site=Site(name=f"img-site-{s}", vlan_min=100, vlan_max=199),
                    owner_org_id=org, name=f"img-node-{s}", resource_class="gpu",
                    power_driver="fake", power_settings={})
        session.add(NodeImage(node=node, image_id=public.id, project_id=project, backend="fake",
                              clone_ref=f"disk-{s}", state=NodeImageState.ACTIVE))
    return {"image": image_id("img", s), "sha": UPLOAD_SHA256}


def _clone_body(world: World, s: str) -> dict[str, Any]:
    return {"source": image_id("img", s), "name": "copy", "project": world.project_ids[s]}


IMAGE_CASES: dict[str, Case] = {
    "image.upload": Case("POST", "/images?name=up&project={project}&sha256={sha}",
                         only("pi", "manager"), setup=setup, body=lambda w, s: UPLOAD_BODY),
    "image.upload/public": Case("POST", "/images?name=up&sha256={sha}", only(), sided=False,
                                setup=setup, body=lambda w, s: UPLOAD_BODY),
    "image.list": Case("GET", "/images", everyone, sided=False),
    "image.read": Case("GET", "/images/{image}", only(*PROJECT_PEOPLE), setup=setup),
    "image.clone": Case("POST", "/images/clones", only("pi", "manager"), setup=setup,
                        body=_clone_body),
    "image.snapshot": Case("POST", "/images/snapshots", only("admin"), setup=setup,
                           body=lambda w, s: {"node": f"img-node-{s}", "name": "frozen"}),
    "image.delete": Case("DELETE", "/images/{image}", only(*LEADS), setup=setup),
}
