"""Bare-metal inventory: sites (operators), and the switches, ports, nodes and NICs that
an owner organization's admins register."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ocx.domain import policy
from ocx.domain.actor import Actor
from ocx.domain.audit import service as audit
from ocx.domain.baremetal import access, isolation, schemas
from ocx.domain.baremetal.models import (
    Lease,
    Network,
    NetworkAttachment,
    Nic,
    Node,
    Site,
    Switch,
    SwitchPort,
)
from ocx.domain.baremetal.states import HOLDING
from ocx.domain.identity import service as identity
from ocx.domain.policy import Action, Target
from ocx.drivers import stored_settings as driver_settings
from ocx.drivers.power import PowerDriver
from ocx.drivers.registry import DriverRegistry
from ocx.drivers.switch import SwitchDriver
from ocx.errors import Conflict
from ocx.persistence.pagination import Page, paginate
from ocx.persistence.sealed import Sealer


def flush_unique(session: Session, what: str) -> None:
    """Flush, turning a unique-constraint race into a clear 409."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(f"{what} already exists") from exc


# --- sites ----------------------------------------------------------------------------

def create_site(session: Session, actor: Actor, body: schemas.SiteCreate) -> Site:
    """Create a site and its VLAN pool (operators)."""
    policy.authorize(actor, Action.SITE_CREATE)
    site = Site(**body.model_dump())
    session.add(site)
    flush_unique(session, f"site {body.name}")
    audit.record(session, actor, "site.create", "site", site.id, changes=body.model_dump())
    return site


def list_sites(session: Session, actor: Actor, *, cursor: str | None,
               limit: int) -> Page[Site]:
    """Every site."""
    policy.authorize(actor, Action.SITE_LIST)
    return paginate(session, select(Site), Site, cursor=cursor, limit=limit)


def get_site(session: Session, actor: Actor, ref: str) -> Site:
    """One site."""
    site = access.find_site(session, ref)
    policy.authorize(actor, Action.SITE_READ, Target())
    return site


def networks_in_use(session: Session, site_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """How many VLAN ids each site has given out."""
    rows = session.execute(select(Network.site_id, func.count()).where(
        Network.site_id.in_(site_ids)).group_by(Network.site_id))
    return {site_id: count for site_id, count in rows}


def delete_site(session: Session, actor: Actor, ref: str) -> None:
    """Delete a site with no switch, node or network left (operators)."""
    site = access.find_site(session, ref)
    policy.authorize(actor, Action.SITE_DELETE, Target())
    for model, what in ((Switch, "switches"), (Node, "nodes"), (Network, "networks")):
        if session.scalar(select(model.id).where(model.site_id == site.id).limit(1)):
            raise Conflict(f"site {site.name} still has {what}; delete them first")
    audit.record(session, actor, "site.delete", "site", site.id, changes={"name": site.name})
    session.delete(site)


# --- switches and their ports ---------------------------------------------------------

def _switch_target(switch: Switch) -> Target:
    return Target(org_id=switch.owner_org_id)


def create_switch(session: Session, actor: Actor, registry: DriverRegistry, sealer: Sealer,
                  body: schemas.SwitchCreate) -> Switch:
    """Register a switch of an owner organization (its org admins, operators)."""
    owner = identity.find_org(session, body.owner)
    policy.authorize(actor, Action.SWITCH_CREATE, Target(org_id=owner.id))
    site = access.find_site(session, body.site)
    stored = driver_settings.validated(registry, sealer, SwitchDriver, body.driver,
                                       body.settings)
    switch = Switch(site_id=site.id, owner_org_id=owner.id, name=body.name, driver=body.driver,
                    settings=stored)
    session.add(switch)
    flush_unique(session, f"switch {site.name}:{body.name}")
    audit.record(session, actor, "switch.create", "switch", switch.id, organization_id=owner.id,
                 changes={"name": body.name, "site": site.name, "driver": body.driver,
                          "settings": driver_settings.masked(stored)})
    return switch


def list_switches(session: Session, actor: Actor, *, cursor: str | None, limit: int,
                  site: str | None = None) -> Page[Switch]:
    """Switches of the organizations the actor administers (operators: all)."""
    policy.authorize(actor, Action.SWITCH_LIST)
    stmt = select(Switch).options(selectinload(Switch.ports), selectinload(Switch.site),
                                  selectinload(Switch.owner))
    if not actor.is_operator:
        stmt = stmt.where(Switch.owner_org_id.in_(actor.admin_org_ids()))
    if site:
        stmt = stmt.where(Switch.site_id == access.find_site(session, site).id)
    return paginate(session, stmt, Switch, cursor=cursor, limit=limit)


def get_switch(session: Session, actor: Actor, ref: str, action: Action = Action.SWITCH_READ
               ) -> Switch:
    """One switch the actor may take ``action`` on."""
    switch = access.find_switch(session, ref)
    policy.authorize(actor, action, _switch_target(switch))
    return switch


def update_switch(session: Session, actor: Actor, registry: DriverRegistry, sealer: Sealer,
                  ref: str, body: schemas.SwitchUpdate) -> Switch:
    """Change a switch's driver settings."""
    switch = get_switch(session, actor, ref, Action.SWITCH_UPDATE)
    switch.settings = driver_settings.updated(registry, sealer, SwitchDriver, switch.driver,
                                              switch.settings, body.settings)
    audit.record(session, actor, "switch.update", "switch", switch.id,
                 organization_id=switch.owner_org_id,
                 changes={"settings": driver_settings.masked(switch.settings)})
    return switch


def delete_switch(session: Session, actor: Actor, ref: str) -> None:
    """Delete a switch none of whose ports is cabled to a NIC."""
    switch = get_switch(session, actor, ref, Action.SWITCH_DELETE)
    cabled = select(Nic.id).join(SwitchPort).where(SwitchPort.switch_id == switch.id)
    if session.scalar(cabled.limit(1)):
        raise Conflict(f"switch {switch.name} still has NICs cabled to it; remove them first")
    audit.record(session, actor, "switch.delete", "switch", switch.id,
                 organization_id=switch.owner_org_id, changes={"name": switch.name})
    session.delete(switch)


def add_ports(session: Session, actor: Actor, ref: str, body: schemas.PortsAdd) -> Switch:
    """Add ports to a switch, by the names the switch gives them."""
    switch = get_switch(session, actor, ref, Action.SWITCH_PORT_ADD)
    names = list(dict.fromkeys(body.names))
    existing = {port.name for port in switch.ports}
    clash = sorted(set(names) & existing)
    if clash:
        raise Conflict(f"switch {switch.name} already has port(s) {', '.join(clash[:10])}")
    switch.ports.extend(SwitchPort(name=name) for name in names)
    flush_unique(session, f"a port of switch {switch.name}")
    audit.record(session, actor, "switch.port.add", "switch", switch.id,
                 organization_id=switch.owner_org_id, changes={"ports": names})
    return switch


def remove_port(session: Session, actor: Actor, ref: str, name: str) -> None:
    """Remove a port no NIC is cabled to."""
    switch = get_switch(session, actor, ref, Action.SWITCH_PORT_REMOVE)
    port = access.find_port(session, switch, name)
    if session.scalar(select(Nic.id).where(Nic.port_id == port.id)):
        raise Conflict(f"port {name} of switch {switch.name} is cabled to a NIC")
    audit.record(session, actor, "switch.port.remove", "switch", switch.id,
                 organization_id=switch.owner_org_id, changes={"port": name})
    session.delete(port)


# --- nodes and their NICs -------------------------------------------------------------

def create_node(session: Session, actor: Actor, registry: DriverRegistry, sealer: Sealer,
                body: schemas.NodeCreate) -> Node:
    """Register a node an organization lends (its org admins, operators)."""
    owner = identity.find_org(session, body.owner)
    policy.authorize(actor, Action.NODE_CREATE, Target(org_id=owner.id))
    site = access.find_site(session, body.site)
    stored = driver_settings.validated(registry, sealer, PowerDriver, body.power_driver,
                                       body.power_settings)
    node = Node(site_id=site.id, owner_org_id=owner.id, name=body.name,
                description=body.description, resource_class=body.resource_class,
                power_driver=body.power_driver, power_settings=stored)
    session.add(node)
    flush_unique(session, f"node {body.name}")
    audit.record(session, actor, "node.create", "node", node.id, organization_id=owner.id,
                 changes={"name": body.name, "site": site.name,
                          "resource_class": body.resource_class,
                          "power_driver": body.power_driver,
                          "power_settings": driver_settings.masked(stored)})
    return node


def list_nodes(session: Session, actor: Actor, *, cursor: str | None, limit: int,
               site: str | None = None, owner: str | None = None,
               resource_class: str | None = None, leased_by: str | None = None
               ) -> Page[Node]:
    """The exchange's nodes, optionally of one site, owner, class, or leasing project."""
    policy.authorize(actor, Action.NODE_LIST)
    stmt = select(Node).options(*node_loads())
    if site:
        stmt = stmt.where(Node.site_id == access.find_site(session, site).id)
    if owner:
        stmt = stmt.where(Node.owner_org_id == identity.find_org(session, owner).id)
    if resource_class:
        stmt = stmt.where(Node.resource_class == resource_class)
    if leased_by:
        project = identity.get_project(session, actor, leased_by)
        stmt = stmt.where(Node.id.in_(select(Lease.node_id).where(
            Lease.project_id == project.id, Lease.state.in_(HOLDING))))
    return paginate(session, stmt, Node, cursor=cursor, limit=limit)


def node_loads() -> list[Any]:
    """What showing a node needs, loaded in a few queries rather than one per NIC."""
    return [selectinload(Node.site), selectinload(Node.owner),
            selectinload(Node.nics).selectinload(Nic.port).selectinload(SwitchPort.switch),
            selectinload(Node.nics).selectinload(Nic.attachments)
            .selectinload(NetworkAttachment.network).selectinload(Network.project)]


def get_node(session: Session, actor: Actor, ref: str) -> Node:
    """One node (the catalogue is open to every signed-in user)."""
    node = access.find_node(session, ref)
    policy.authorize(actor, Action.NODE_READ, Target())
    return node


def administered_node(session: Session, actor: Actor, ref: str, action: Action) -> Node:
    """A node the actor may administer: its owner while it is not leased, or operators."""
    node = access.find_node(session, ref)
    policy.authorize(actor, action, access.node_target(session, node))
    return node


def update_node(session: Session, actor: Actor, registry: DriverRegistry, sealer: Sealer,
                ref: str, body: schemas.NodeUpdate) -> Node:
    """Change a node's class, description or power driver and settings."""
    node = administered_node(session, actor, ref, Action.NODE_UPDATE)
    changes: dict[str, Any] = body.model_dump(exclude_none=True,
                                              exclude={"power_driver", "power_settings"})
    if body.power_driver is not None or body.power_settings is not None:
        driver = body.power_driver or node.power_driver
        if driver != node.power_driver:
            stored = driver_settings.validated(registry, sealer, PowerDriver, driver,
                                               body.power_settings or {})
        else:
            stored = driver_settings.updated(registry, sealer, PowerDriver, driver,
                                             node.power_settings, body.power_settings or {})
        node.power_driver, node.power_settings = driver, stored
        changes.update(power_driver=driver, power_settings=driver_settings.masked(stored))
    for key, value in changes.items():
        if key in ("resource_class", "description"):
            setattr(node, key, value)
    audit.record(session, actor, "node.update", "node", node.id,
                 organization_id=node.owner_org_id, changes=changes)
    return node


def delete_node(session: Session, actor: Actor, ref: str) -> None:
    """Delete a node that was never leased (leases are billing history) and carries no
    network; its offers go with it."""
    node = administered_node(session, actor, ref, Action.NODE_DELETE)
    if session.scalar(select(Lease.id).where(Lease.node_id == node.id).limit(1)):
        raise Conflict(f"node {node.name} has leases, which are kept for billing; it cannot "
                       "be deleted (withdraw its offers instead)")
    attached = select(NetworkAttachment.id).join(Nic).where(Nic.node_id == node.id)
    if session.scalar(attached.limit(1)):
        raise Conflict(f"node {node.name} is still connected to networks; detach it first")
    audit.record(session, actor, "node.delete", "node", node.id,
                 organization_id=node.owner_org_id, changes={"name": node.name})
    session.delete(node)


def add_nic(session: Session, actor: Actor, ref: str, body: schemas.NicCreate) -> Node:
    """Add a NIC to a node, cabled to a port of a switch of the same owner and site; the
    port is isolated at once (a switch operation takes the node)."""
    node = administered_node(session, actor, ref, Action.NODE_NIC_ADD)
    port = None
    if body.switch is not None and body.port is not None:
        switch = access.find_switch(session, body.switch)
        if switch.owner_org_id != node.owner_org_id or switch.site_id != node.site_id:
            raise Conflict(f"switch {switch.name} is not at node {node.name}'s site or not "
                           "of its owner")
        port = access.find_port(session, switch, body.port)
    nic = Nic(node_id=node.id, name=body.name, mac=body.mac, port_id=port.id if port else None)
    session.add(nic)
    flush_unique(session, f"NIC {body.name} ({body.mac}), or a NIC on that port,")
    if port is not None:
        # Whatever the port carried before, it now carries only what OCX says: nothing.
        op = isolation.journal(session, actor, node, isolation.NETWORK, {"isolate": nic.name})
        isolation.queue_port_change(session, nic, op.id)
    audit.record(session, actor, "node.nic.add", "node", node.id,
                 organization_id=node.owner_org_id,
                 changes={"nic": body.name, "mac": body.mac, "switch": body.switch,
                          "port": body.port})
    session.expire(node, ["nics"])
    return node


def remove_nic(session: Session, actor: Actor, ref: str, nic_ref: str) -> None:
    """Remove a NIC that carries no network."""
    node = administered_node(session, actor, ref, Action.NODE_NIC_REMOVE)
    nic = access.find_nic(session, node, nic_ref)
    if nic.attachments:
        raise Conflict(f"NIC {nic.name} still carries networks; detach it first")
    audit.record(session, actor, "node.nic.remove", "node", node.id,
                 organization_id=node.owner_org_id, changes={"nic": nic.name, "mac": nic.mac})
    session.delete(nic)


def can_see_bmc(actor: Actor, node: Node) -> bool:
    """Whether the actor may see the node's power settings (owner admins, operators)."""
    return actor.is_operator or policy.org_admin(actor, Target(org_id=node.owner_org_id))

