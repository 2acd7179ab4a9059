"""The diskless-boot rows of the RBAC matrix (``PROVISION_CASES``, in test_rbac_matrix.py).

On top of the image rows' ``setup`` (a node ``img-node-<s>`` of org-<s>, not leased, whose
disk is a clone of the public image ``pub-<s>``), the node gets a NIC to boot from. Not
leased, the node is its owner's: only org-<s>'s admin (and operators) may provision it.
"""

from __future__ import annotations

from sqlalchemy import select

from ocx.domain.baremetal.models import Nic, Node
from ocx.runtime import Runtime
from tests.integration.images.rbac_cases import setup as image_setup
from tests.support.rbac import Case, only
from tests.support.world import World


def setup(runtime: Runtime, world: World, s: str) -> dict[str, str]:
    """The image rows' setup, and a NIC on the side's node; the path values."""
    values = image_setup(runtime, world, s)
    with runtime.sessions() as session, session.begin():
        node = session.scalar(select(Node).where(Node.name == f"img-node-{s}"))
        session.add(Nic(node=node, name="eth0", mac=f"52:54:00:ee:00:0{ord(s) - 96}"))
    return {**values, "node": f"img-node-{s}"}


PROVISION_CASES: dict[str, Case] = {
    "node.provision": Case("POST", "/nodes/{node}/provision", only("admin"), setup=setup,
                           body=lambda w, s: {"image": f"pub-{s}"}),
    "node.provision/show": Case("GET", "/nodes/{node}/provision", only("admin"), setup=setup),
    "node.unprovision": Case("POST", "/nodes/{node}/unprovision", only("admin"), setup=setup,
                             body=lambda w, s: {}),
}
