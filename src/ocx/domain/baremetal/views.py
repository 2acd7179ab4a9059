"""Bare-metal rows as the API shows them: names instead of ids, secrets masked, and what a
node's lease and lock say about it now (read in one query per page, not per row)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ocx.domain.actor import Actor
from ocx.domain.baremetal import inventory, schemas
from ocx.domain.baremetal.models import Lease, Network, Nic, Node, Offer, Site, Switch
from ocx.domain.baremetal.states import LeaseState
from ocx.domain.identity.models import Project
from ocx.domain.operations.models import Operation
from ocx.domain.operations.states import OperationState
from ocx.drivers import stored_settings as driver_settings
from ocx.persistence.base import utcnow


def project_label(project: Project) -> str:
    """``ORG:PROJECT``, the unambiguous way to name a project."""
    return f"{project.organization.name}:{project.name}"


def sites(session: Session, rows: Sequence[Site]) -> list[schemas.SitePublic]:
    """Sites with the number of VLAN ids they gave out."""
    used = inventory.networks_in_use(session, [site.id for site in rows])
    return [schemas.SitePublic(id=s.id, name=s.name, description=s.description,
                               vlan_min=s.vlan_min, vlan_max=s.vlan_max,
                               networks=used.get(s.id, 0), created_at=s.created_at)
            for s in rows]


def switch(row: Switch) -> schemas.SwitchPublic:
    """A switch with its ports; secret settings masked."""
    return schemas.SwitchPublic(
        id=row.id, name=row.name, site=row.site.name, owner=row.owner.name,
        owner_org_id=row.owner_org_id, driver=row.driver,
        settings=driver_settings.masked(row.settings), ports=[p.name for p in row.ports],
        created_at=row.created_at)


def network(row: Network) -> schemas.NetworkPublic:
    """A network with its project and site by name."""
    return schemas.NetworkPublic(id=row.id, name=row.name, project=project_label(row.project),
                                 project_id=row.project_id, site=row.site.name, vlan=row.vlan,
                                 created_at=row.created_at)


def _nic(row: Nic) -> schemas.NicPublic:
    port = row.port
    return schemas.NicPublic(
        id=row.id, name=row.name, mac=row.mac,
        switch=port.switch.name if port is not None else None,
        port=port.name if port is not None else None,
        networks=[schemas.AttachmentPublic(
            network_id=a.network_id, network=a.network.name,
            project=project_label(a.network.project), vlan=a.network.vlan, mode=a.mode,
            state=a.state) for a in sorted(row.attachments, key=lambda a: a.network.vlan)])


def _leases_now(session: Session, node_ids: list[uuid.UUID]) -> dict[uuid.UUID, Lease]:
    rows = session.scalars(select(Lease).where(
        Lease.node_id.in_(node_ids), Lease.state == LeaseState.ACTIVE,
        Lease.ends_at > utcnow()))
    return {lease.node_id: lease for lease in rows}


def _busy(session: Session, nodes: Sequence[Node]) -> set[uuid.UUID]:
    held = [node.locked_by for node in nodes if node.locked_by is not None]
    return set(session.scalars(select(Operation.id).where(
        Operation.id.in_(held),
        Operation.state.in_((OperationState.PENDING, OperationState.RUNNING)))))


def nodes(session: Session, actor: Actor, rows: Sequence[Node]) -> list[schemas.NodePublic]:
    """Nodes with their NICs, lessee and lock; BMC settings only for those who run them."""
    leases = _leases_now(session, [node.id for node in rows])
    busy = _busy(session, rows)
    shown = []
    for node in rows:
        lease = leases.get(node.id)
        shown.append(schemas.NodePublic(
            id=node.id, name=node.name, site=node.site.name, owner=node.owner.name,
            owner_org_id=node.owner_org_id, resource_class=node.resource_class,
            description=node.description, power_driver=node.power_driver,
            power_settings=(driver_settings.masked(node.power_settings)
                            if inventory.can_see_bmc(actor, node) else None),
            power_state=node.power_state, boot_device=node.boot_device,
            power_checked_at=node.power_checked_at, power_error=node.power_error,
            lessee=project_label(lease.project) if lease else None,
            lease_id=lease.id if lease else None,
            busy_with=node.locked_by if node.locked_by in busy else None,
            nics=[_nic(nic) for nic in node.nics], created_at=node.created_at))
    return shown


def offer(row: Offer) -> schemas.OfferPublic:
    """An offer with names for its owner, site, node and project."""
    return schemas.OfferPublic(
        id=row.id, owner=row.owner.name, site=row.site.name,
        node=row.node.name if row.node else None, resource_class=row.resource_class,
        project=project_label(row.project) if row.project else None,
        starts_at=row.starts_at, ends_at=row.ends_at, state=row.state,
        created_at=row.created_at)


def lease(row: Lease) -> schemas.LeasePublic:
    """A lease with its node and project by name."""
    return schemas.LeasePublic(
        id=row.id, offer_id=row.offer_id, node=row.node.name, node_id=row.node_id,
        project=project_label(row.project), project_id=row.project_id,
        starts_at=row.starts_at, ends_at=row.ends_at, state=row.state,
        started_at=row.started_at, ended_at=row.ended_at, created_at=row.created_at)
