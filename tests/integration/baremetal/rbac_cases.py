"""The bare-metal rows of the RBAC matrix (``BAREMETAL_CASES``, in test_rbac_matrix.py).

``setup`` gives side "a" or "b" its own inventory: site-<s>, switch sw-<s> (ports p1, p2),
node node-<s> (NIC eth0 on p1 carrying net-<s>, an uncabled eth9), spare ones to delete,
an offer to everyone and a future lease of proj-<s>. Offers, leases and networks get
fixed ids so that request bodies can name them.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from ocx.domain.baremetal import schemas
from ocx.domain.baremetal.models import (
    Lease,
    Network,
    NetworkAttachment,
    Nic,
    Node,
    Offer,
    Site,
    Switch,
    SwitchPort,
)
from ocx.domain.baremetal.states import AttachmentMode, AttachmentState
from ocx.persistence.base import utcnow
from ocx.runtime import Runtime
from tests.support.rbac import PROJECT_PEOPLE, Case, everyone, only
from tests.support.world import World

NS = uuid.UUID("6a0d5c3e-7e52-4a59-9d55-0b4a8f0c1e11")


def fixed_id(what: str, side: str) -> str:
    """The id ``setup`` gives ``what`` (offer, lease, network) on side ``side``."""
    return str(uuid.uuid5(NS, f"{what}-{side}"))


def _node(s: str, name: str) -> schemas.NodeCreate:
    return schemas.NodeCreate(name=name, site=f"site-{s}", owner=f"org-{s}",
                              resource_class="gpu", power_driver="fake",
                              power_settings={"bmc": f"rbac-{name}"})


def setup(runtime: Runtime, world: World, s: str) -> dict[str, str]:
    """Side ``s``'s bare-metal inventory (see the module docstring); the path values.

    Rows are written directly (one flush), not through the services: the matrix runs
    this hundreds of times, and the services are tested on their own.
    """
    org, project = uuid.UUID(world.org_ids[s]), uuid.UUID(world.project_ids[s])
    with runtime.sessions() as session, session.begin():
        site = Site(name=f"site-{s}", vlan_min=100, vlan_max=199)
        empty = Site(name=f"empty-{s}", vlan_min=100, vlan_max=199)
        switch = Switch(site=site, owner_org_id=org, name=f"sw-{s}", driver="fake",
                        settings={"name": f"rbac-sw-{s}"})
        spare_switch = Switch(site=site, owner_org_id=org, name=f"spare-sw-{s}", driver="fake",
                              settings={"name": f"rbac-spare-{s}"})
        p1, p2 = SwitchPort(switch=switch, name="p1"), SwitchPort(switch=switch, name="p2")
        node, spare_node = (Node(site=site, owner_org_id=org, name=name, resource_class="gpu",
                                 power_driver="fake", power_settings={"bmc": f"rbac-{name}"})
                            for name in (f"node-{s}", f"spare-{s}"))
        n = ord(s) - 96
        eth0 = Nic(node=node, name="eth0", mac=f"52:54:00:cc:00:0{n}", port=p1)
        eth9 = Nic(node=node, name="eth9", mac=f"52:54:00:cc:01:0{n}")
        net = Network(id=uuid.UUID(fixed_id("network", s)), site=site, project_id=project,
                      name=f"net-{s}", vlan=100)
        spare_net = Network(site=site, project_id=project, name=f"spare-net-{s}", vlan=101)
        attached = NetworkAttachment(nic=eth0, network=net, mode=AttachmentMode.ACCESS,
                                     state=AttachmentState.ATTACHED)
        offer = Offer(id=uuid.UUID(fixed_id("offer", s)), owner_org_id=org, site=site,
                      node=node, starts_at=utcnow(), ends_at=utcnow() + timedelta(days=30))
        start = utcnow() + timedelta(days=1)
        lease = Lease(id=uuid.UUID(fixed_id("lease", s)), offer=offer, node=node,
                      project_id=project, starts_at=start, ends_at=start + timedelta(days=1))
        session.add_all([empty, spare_switch, p2, spare_node, eth9, spare_net, attached, lease])
    return {"site": f"site-{s}", "switch": f"sw-{s}", "port": "p2", "node": f"node-{s}",
            "nic": "eth9", "network": fixed_id("network", s), "offer_id": fixed_id("offer", s),
            "lease_id": fixed_id("lease", s)}


def spare(**names: str) -> Any:
    """``setup``, pointing the path at the side's unused ``site``, ``switch``, ``node`` or
    ``network`` instead (something that may be deleted)."""

    def prepare(runtime: Runtime, world: World, s: str) -> dict[str, str]:
        return {**setup(runtime, world, s),
                **{key: value.format(s=s) for key, value in names.items()}}

    return prepare


def _cases() -> dict[str, Case]:
    case, people, leads = Case, PROJECT_PEOPLE, ("pi", "manager")
    later = (utcnow() + timedelta(days=3)).isoformat()
    return {
        "site.create": case("POST", "/sites", only(), sided=False,
                            body=lambda w, s: {"name": "site-new", "vlan_min": 1,
                                               "vlan_max": 9}),
        "site.list": case("GET", "/sites", everyone, sided=False),
        "site.read": case("GET", "/sites/{site}", everyone, sided=False, setup=setup),
        "site.delete": case("DELETE", "/sites/{site}", only(), sided=False,
                            setup=spare(site="empty-{s}")),
        "switch.create": case("POST", "/switches", only("admin"), setup=setup,
                              body=lambda w, s: {"name": "sw-new", "site": f"site-{s}",
                                                 "owner": f"org-{s}", "driver": "fake"}),
        "switch.list": case("GET", "/switches", everyone, sided=False),
        "switch.read": case("GET", "/switches/{switch}", only("admin"), setup=setup),
        "switch.update": case("PATCH", "/switches/{switch}", only("admin"), setup=setup,
                              body=lambda w, s: {"settings": {"delay_s": 0}}),
        "switch.delete": case("DELETE", "/switches/{switch}", only("admin"),
                              setup=spare(switch="spare-sw-{s}")),
        "switch.port.add": case("POST", "/switches/{switch}/ports", only("admin"), setup=setup,
                                body=lambda w, s: {"names": ["p7"]}),
        "switch.port.remove": case("DELETE", "/switches/{switch}/ports/{port}", only("admin"),
                                   setup=setup),
        "node.create": case("POST", "/nodes", only("admin"), setup=setup,
                            body=lambda w, s: _node(s, "node-new").model_dump()),
        "node.list": case("GET", "/nodes", everyone, sided=False),
        "node.read": case("GET", "/nodes/{node}", everyone, setup=setup),
        "node.update": case("PATCH", "/nodes/{node}", only("admin"), setup=setup,
                            body=lambda w, s: {"description": "changed"}),
        "node.delete": case("DELETE", "/nodes/{node}", only("admin"),
                            setup=spare(node="spare-{s}")),
        "node.nic.add": case("POST", "/nodes/{node}/nics", only("admin"), setup=setup,
                             body=lambda w, s: {"name": "eth2", "mac": "52:54:00:dd:00:01"}),
        "node.nic.remove": case("DELETE", "/nodes/{node}/nics/{nic}", only("admin"),
                                setup=setup),
        "node.connect": case("POST", "/nodes/{node}/connect", only("admin"), setup=setup,
                             body=lambda w, s: {"nic": "eth0", "network": f"spare-net-{s}",
                                                "mode": "tagged"}),
        "node.detach": case("POST", "/nodes/{node}/detach", only("admin"), setup=setup,
                            body=lambda w, s: {"nic": "eth0"}),
        "node.power": case("POST", "/nodes/{node}/power", only("admin"), setup=setup,
                           body=lambda w, s: {"action": "status"}),
        "node.boot_device": case("POST", "/nodes/{node}/boot-device", only("admin"),
                                 setup=setup, body=lambda w, s: {"device": "pxe"}),
        "network.create": case("POST", "/networks", only("admin", *leads), setup=setup,
                               body=lambda w, s: {"name": "net-new", "site": f"site-{s}",
                                                  "project": w.project_ids[s]}),
        "network.list": case("GET", "/networks", everyone, sided=False),
        "network.read": case("GET", "/networks/{network}", only(*people), setup=setup),
        "network.delete": case("DELETE", "/networks/{network}", only("admin", *leads),
                               setup=spare(network="spare-net-{s}")),
        "offer.create": case("POST", "/offers", only("admin"), setup=setup,
                             body=lambda w, s: {"node": f"spare-{s}", "ends_at": later}),
        "offer.list": case("GET", "/offers", everyone, sided=False),
        "offer.read": case("GET", "/offers/{offer_id}", everyone, setup=setup),
        "offer.delete": case("DELETE", "/offers/{offer_id}", only("admin"), setup=setup),
        "lease.create": case("POST", "/leases", only(*leads), setup=setup,
                             body=lambda w, s: {"offer": fixed_id("offer", s),
                                                "project": w.project_ids[s],
                                                "ends_at": (utcnow() + timedelta(hours=2))
                                                .isoformat()}),
        "lease.list": case("GET", "/leases", everyone, sided=False),
        "lease.read": case("GET", "/leases/{lease_id}", only(*people), setup=setup),
        "lease.cancel": case("POST", "/leases/{lease_id}/cancel", only(*leads), setup=setup),
        "lease.extend": case("POST", "/leases/{lease_id}/extend", only(*leads), setup=setup,
                             body=lambda w, s: {"ends_at": (utcnow() + timedelta(days=5))
                                                .isoformat()}),
        "lease.reclaim": case("POST", "/leases/{lease_id}/reclaim", only(), setup=setup,
                              body=lambda w, s: {"reason": "owner maintenance"}),
    }


BAREMETAL_CASES = _cases()
