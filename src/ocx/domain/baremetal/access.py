"""Finding bare-metal rows by what people type, and who may act on them.

A reference is an id, or a name: unique for sites and nodes, unique per site for
switches (``SITE:NAME`` when a name repeats), unique per project for networks
(``PROJECT/NAME``, where PROJECT is any project reference). Who may use a node follows
from its active lease: during a lease its lessee project, otherwise its owner.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ocx.domain.baremetal.models import Lease, Network, Nic, Node, Offer, Site, Switch, SwitchPort
from ocx.domain.baremetal.states import LeaseState
from ocx.domain.identity import service as identity
from ocx.domain.policy import Target
from ocx.errors import Conflict, NotFound
from ocx.persistence.base import utcnow

RowT = TypeVar("RowT", Site, Switch, Node, Network, Offer, Lease)


def as_uuid(ref: str | uuid.UUID) -> uuid.UUID | None:
    """``ref`` as a UUID, or None if it is a name."""
    if isinstance(ref, uuid.UUID):
        return ref
    try:
        return uuid.UUID(ref)
    except ValueError:
        return None


def _one(session: Session, model: type[RowT], what: str, ref: str | uuid.UUID,
         by_name: Select[Any] | None) -> RowT:
    """A row by id, or the single row ``by_name`` selects."""
    ref_id = as_uuid(ref)
    if ref_id is not None:
        row = session.get(model, ref_id)
        found: Sequence[RowT] = [row] if row is not None else []
    else:
        found = list(session.scalars(by_name)) if by_name is not None else []
    if not found:
        raise NotFound(f"{what} not found")
    if len(found) > 1:
        raise Conflict(f"several {what}s are called {ref}; use its id")
    return found[0]


def find_site(session: Session, ref: str | uuid.UUID) -> Site:
    """A site by id or name. Raises NotFound."""
    return _one(session, Site, "site", ref, select(Site).where(Site.name == str(ref).lower()))


def find_switch(session: Session, ref: str | uuid.UUID) -> Switch:
    """A switch by id, name, or ``SITE:NAME``. Raises NotFound, or Conflict if ambiguous."""
    site_name, _, name = str(ref).lower().rpartition(":")
    stmt = select(Switch).where(Switch.name == name)
    if site_name:
        stmt = stmt.join(Site).where(Site.name == site_name)
    return _one(session, Switch, "switch", ref, stmt)


def find_node(session: Session, ref: str | uuid.UUID) -> Node:
    """A node by id or name. Raises NotFound."""
    return _one(session, Node, "node", ref, select(Node).where(Node.name == str(ref).lower()))


def find_network(session: Session, ref: str | uuid.UUID,
                 project_id: uuid.UUID | None = None) -> Network:
    """A network by id, ``PROJECT/NAME``, or a name (within ``project_id`` when given).

    Raises:
        NotFound: no such network.
        Conflict: a bare name that several projects use.
    """
    project_ref, _, name = str(ref).lower().rpartition("/")
    stmt = select(Network).where(Network.name == name)
    if project_ref:
        stmt = stmt.where(Network.project_id == identity.find_project(session, project_ref).id)
    elif project_id is not None:
        stmt = stmt.where(Network.project_id == project_id)
    return _one(session, Network, "network", ref, stmt)


def find_offer(session: Session, ref: str | uuid.UUID) -> Offer:
    """An offer by id. Raises NotFound."""
    return _one(session, Offer, "offer", ref, None)


def find_lease(session: Session, ref: str | uuid.UUID) -> Lease:
    """A lease by id. Raises NotFound."""
    return _one(session, Lease, "lease", ref, None)


def find_port(session: Session, switch: Switch, name: str) -> SwitchPort:
    """A port of ``switch`` by name. Raises NotFound."""
    port = session.scalar(select(SwitchPort).where(SwitchPort.switch_id == switch.id,
                                                   SwitchPort.name == name))
    if port is None:
        raise NotFound(f"switch {switch.name} has no port {name}")
    return port


def find_nic(session: Session, node: Node, ref: str) -> Nic:
    """A NIC of ``node`` by id, name or MAC address. Raises NotFound."""
    for nic in node.nics:
        if ref in (str(nic.id), nic.name, nic.mac) or ref.lower() == nic.mac:
            return nic
    raise NotFound(f"node {node.name} has no NIC {ref}")


def active_lease(session: Session, node: Node, now: datetime | None = None) -> Lease | None:
    """The lease under which the node is in use now, if any: active and not yet over."""
    now = now or utcnow()
    return session.scalar(select(Lease).where(
        Lease.node_id == node.id, Lease.state == LeaseState.ACTIVE, Lease.ends_at > now))


def node_target(session: Session, node: Node) -> Target:
    """The policy target for using a node: its lessee project during a lease (which
    shuts its owner out), nobody but operators while a lease is over but the node not yet
    cleaned, otherwise its owner organization."""
    now = utcnow()
    lease = session.scalar(select(Lease).where(
        Lease.node_id == node.id, Lease.state.in_((LeaseState.ACTIVE, LeaseState.ENDING)))
        .order_by(Lease.ends_at.desc()).limit(1))
    if lease is None:
        return Target(org_id=node.owner_org_id)
    if lease.state is LeaseState.ACTIVE and lease.ends_at > now:
        return Target(project_id=lease.project_id)
    return Target()

