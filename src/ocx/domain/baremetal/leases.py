"""Offers and leases (ESI's model): owners offer nodes for a time window, projects lease them.

Leases of one node never overlap. The service looks for a conflicting lease first, to
answer 409 naming it; the database has the last word when two requests race: on
PostgreSQL an exclusion constraint over the leases' time ranges, on SQLite serialized
writers (``BEGIN IMMEDIATE``), under which check-then-insert is atomic.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from ocx.domain import policy
from ocx.domain.actor import Actor
from ocx.domain.audit import service as audit
from ocx.domain.baremetal import access, isolation, schemas, usage
from ocx.domain.baremetal.models import Lease, Node, Offer
from ocx.domain.baremetal.states import HOLDING, LeaseState, OfferState
from ocx.domain.identity import service as identity
from ocx.domain.identity.models import Project
from ocx.domain.operations.models import Operation
from ocx.domain.policy import Action, Target
from ocx.errors import Conflict, Forbidden, InvalidInput
from ocx.persistence.base import utcnow
from ocx.persistence.pagination import Page, paginate

# A start this far in the past still counts as "now" (clocks and slow clients).
START_GRACE = timedelta(minutes=5)


def _offer_target(offer: Offer) -> Target:
    return Target(org_id=offer.owner_org_id, project_id=offer.project_id)


def _lease_target(lease: Lease) -> Target:
    return Target(org_id=lease.node.owner_org_id, project_id=lease.project_id)


def _window(starts_at: datetime | None, ends_at: datetime) -> tuple[datetime, datetime]:
    now = utcnow()
    start = starts_at or now
    if start < now - START_GRACE:
        raise InvalidInput("starts_at is in the past")
    if ends_at <= start:
        raise InvalidInput("ends_at must be after starts_at")
    return start, ends_at


# --- offers ---------------------------------------------------------------------------

def create_offer(session: Session, actor: Actor, body: schemas.OfferCreate) -> Offer:
    """Offer a node, or any node of a resource class, for a time window (owners' admins)."""
    if body.node is not None:
        node = access.find_node(session, body.node)
        owner_id, site_id, node_id = node.owner_org_id, node.site_id, node.id
    else:
        owner_id = identity.find_org(session, body.owner or "").id
        site_id, node_id = access.find_site(session, body.site or "").id, None
    policy.authorize(actor, Action.OFFER_CREATE, Target(org_id=owner_id))
    project = identity.find_project(session, body.project) if body.project else None
    starts_at, ends_at = _window(body.starts_at, body.ends_at)
    offer = Offer(owner_org_id=owner_id, site_id=site_id, node_id=node_id,
                  resource_class=body.resource_class, project_id=project.id if project else None,
                  starts_at=starts_at, ends_at=ends_at, created_by=actor.user_id)
    session.add(offer)
    session.flush()
    audit.record(session, actor, "offer.create", "offer", offer.id, organization_id=owner_id,
                 changes={"node": body.node, "resource_class": body.resource_class,
                          "project": project.name if project else None,
                          "starts_at": starts_at, "ends_at": ends_at})
    return offer


def _visible_offers(actor: Actor) -> ColumnElement[bool] | None:
    """Offers the actor may see: open to all, to one of their projects, or their own."""
    if actor.is_operator:
        return None
    return or_(Offer.project_id.is_(None), Offer.project_id.in_(actor.project_roles),
               Offer.owner_org_id.in_(actor.admin_org_ids()))


def list_offers(session: Session, actor: Actor, *, cursor: str | None, limit: int,
                node: str | None = None, resource_class: str | None = None,
                include_past: bool = False) -> Page[Offer]:
    """Offers open to the actor (operators: all), current ones unless ``include_past``."""
    policy.authorize(actor, Action.OFFER_LIST)
    stmt = select(Offer).options(joinedload(Offer.owner), joinedload(Offer.site),
                                 joinedload(Offer.node), joinedload(Offer.project))
    if (visible := _visible_offers(actor)) is not None:
        stmt = stmt.where(visible)
    if not include_past:
        stmt = stmt.where(Offer.state == OfferState.AVAILABLE, Offer.ends_at > utcnow())
    if node:
        stmt = stmt.where(Offer.node_id == access.find_node(session, node).id)
    if resource_class:
        stmt = stmt.where(or_(Offer.resource_class == resource_class, Offer.node_id.in_(
            select(Node.id).where(Node.resource_class == resource_class))))
    return paginate(session, stmt, Offer, cursor=cursor, limit=limit)


def get_offer(session: Session, actor: Actor, ref: str,
              action: Action = Action.OFFER_READ) -> Offer:
    """One offer the actor may take ``action`` on."""
    offer = access.find_offer(session, ref)
    policy.authorize(actor, action, _offer_target(offer))
    return offer


def withdraw_offer(session: Session, actor: Actor, ref: str) -> Offer:
    """Withdraw an offer: no new leases under it (the ones made stay)."""
    offer = get_offer(session, actor, ref, Action.OFFER_DELETE)
    if offer.state is not OfferState.WITHDRAWN:
        offer.state = OfferState.WITHDRAWN
        audit.record(session, actor, "offer.withdraw", "offer", offer.id,
                     organization_id=offer.owner_org_id)
    return offer


# --- leases ---------------------------------------------------------------------------

def conflicting(session: Session, node_id: uuid.UUID, starts_at: datetime, ends_at: datetime,
                ignore: uuid.UUID | None = None) -> Lease | None:
    """A lease holding ``node_id`` at some time between ``starts_at`` and ``ends_at``."""
    stmt = select(Lease).where(Lease.node_id == node_id, Lease.state.in_(HOLDING),
                               Lease.starts_at < ends_at, Lease.ends_at > starts_at)
    if ignore is not None:
        stmt = stmt.where(Lease.id != ignore)
    return session.scalar(stmt.order_by(Lease.starts_at).limit(1))


def describe_conflict(node: Node, lease: Lease) -> str:
    """The 409 message for a window clashing with ``lease``."""
    return (f"node {node.name} is already leased from {lease.starts_at.isoformat()} to "
            f"{lease.ends_at.isoformat()} (lease {lease.id})")


def _candidates(offer: Offer) -> Select[Node]:
    """The nodes an offer covers, by name."""
    if offer.node_id is not None:
        return select(Node).where(Node.id == offer.node_id)
    return select(Node).where(
        Node.owner_org_id == offer.owner_org_id, Node.site_id == offer.site_id,
        Node.resource_class == offer.resource_class).order_by(Node.name)


def _overlapping(starts_at: datetime, ends_at: datetime) -> Select[uuid.UUID]:
    """The nodes some lease holds at a time between ``starts_at`` and ``ends_at``."""
    return select(Lease.node_id).where(Lease.state.in_(HOLDING), Lease.starts_at < ends_at,
                                       Lease.ends_at > starts_at)


def _insert(session: Session, lease: Lease) -> bool:
    """Insert ``lease``; False if the database refused it (a racing overlapping lease)."""
    try:
        with session.begin_nested():
            session.add(lease)
    except IntegrityError:
        return False
    return True


def _usable_offer(session: Session, actor: Actor, offer: Offer, project: Project,
                  starts_at: datetime, ends_at: datetime) -> None:
    policy.authorize(actor, Action.OFFER_READ, _offer_target(offer))
    if offer.state is not OfferState.AVAILABLE:
        raise Conflict(f"offer {offer.id} was withdrawn")
    if offer.project_id is not None and offer.project_id != project.id:
        raise Forbidden(f"offer {offer.id} is not open to project {project.name}")
    if starts_at < offer.starts_at - START_GRACE or ends_at > offer.ends_at:
        raise Conflict(f"the lease must fit in the offer's window, "
                       f"{offer.starts_at.isoformat()} to {offer.ends_at.isoformat()}")


def create_lease(session: Session, actor: Actor, body: schemas.LeaseCreate) -> Lease:
    """Lease a node under an offer for a project (its PI or managers).

    Raises:
        Conflict: the node (or every node of the offered class) is leased at some time
            in the window; the message names the lease in the way.
    """
    project = identity.find_project(session, body.project, actor)
    policy.authorize(actor, Action.LEASE_CREATE, identity.project_target(project))
    offer = access.find_offer(session, body.offer)
    starts_at, ends_at = _window(body.starts_at, body.ends_at)
    _usable_offer(session, actor, offer, project, starts_at, ends_at)
    candidates = _candidates(offer)
    # One query for the nodes free in the window; a racing request may still take one
    # first (the database refuses the second insert), so each is tried in turn.
    for node in session.scalars(candidates.where(
            Node.id.not_in(_overlapping(starts_at, ends_at)))).all():
        lease = Lease(offer_id=offer.id, node_id=node.id, project_id=project.id,
                      starts_at=starts_at, ends_at=ends_at, created_by=actor.user_id)
        if _insert(session, lease):
            audit.record(session, actor, "lease.create", "lease", lease.id,
                         organization_id=project.organization_id,
                         changes={"node": node.name, "project": project.name,
                                  "offer": offer.id, "starts_at": starts_at,
                                  "ends_at": ends_at})
            return lease
    clashes = [describe_conflict(node, clash) for node in session.scalars(candidates.limit(5))
               if (clash := conflicting(session, node.id, starts_at, ends_at)) is not None]
    if not clashes:
        raise Conflict(f"offer {offer.id} covers no node (class {offer.resource_class})")
    raise Conflict("; ".join(clashes))


def list_leases(session: Session, actor: Actor, *, cursor: str | None, limit: int,
                project: str | None = None, node: str | None = None,
                state: LeaseState | None = None, owner: str | None = None) -> Page[Lease]:
    """Leases of the actor's projects and of the nodes their organizations own; optionally
    only of one project, node, state, or nodes' owner organization."""
    policy.authorize(actor, Action.LEASE_LIST)
    stmt = select(Lease).options(joinedload(Lease.node), joinedload(Lease.project)
                                 .joinedload(Project.organization))
    if not actor.is_operator:
        owned = select(Node.id).where(Node.owner_org_id.in_(actor.admin_org_ids()))
        stmt = stmt.where(or_(Lease.project_id.in_(actor.project_roles),
                              Lease.node_id.in_(owned)))
    if project:
        stmt = stmt.where(Lease.project_id == identity.get_project(session, actor, project).id)
    if node:
        stmt = stmt.where(Lease.node_id == access.find_node(session, node).id)
    if state is not None:
        stmt = stmt.where(Lease.state == state)
    if owner:
        stmt = stmt.where(Lease.node_id.in_(select(Node.id).where(
            Node.owner_org_id == identity.find_org(session, owner).id)))
    return paginate(session, stmt, Lease, cursor=cursor, limit=limit)


def get_lease(session: Session, actor: Actor, ref: str,
              action: Action = Action.LEASE_READ) -> Lease:
    """One lease the actor may take ``action`` on."""
    lease = access.find_lease(session, ref)
    policy.authorize(actor, action, _lease_target(lease))
    return lease


def extend_lease(session: Session, actor: Actor, ref: str, body: schemas.LeaseExtend) -> Lease:
    """Move a lease's end later, within its offer and before the node's next lease."""
    lease = get_lease(session, actor, ref, Action.LEASE_EXTEND)
    if lease.state not in (LeaseState.CREATED, LeaseState.ACTIVE) or lease.ends_at <= utcnow():
        raise Conflict(f"lease {lease.id} is {lease.state.value}; only current or future "
                       "leases can be extended")
    if body.ends_at <= lease.ends_at:
        raise InvalidInput("the new end must be later than the current one")
    if lease.offer.state is not OfferState.AVAILABLE:
        # Withdrawing stops new time under the offer: the lease keeps its end, no more.
        raise Conflict(f"offer {lease.offer_id} was withdrawn; the lease cannot be extended")
    if body.ends_at > lease.offer.ends_at:
        raise Conflict(f"the offer ends at {lease.offer.ends_at.isoformat()}; a lease cannot "
                       "outlast it")
    clash = conflicting(session, lease.node_id, lease.ends_at, body.ends_at, ignore=lease.id)
    if clash is not None:
        raise Conflict(describe_conflict(lease.node, clash))
    before = lease.ends_at
    lease.ends_at = body.ends_at
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(f"node {lease.node.name} was just leased by a concurrent request "
                       "after the current end") from exc
    audit.record(session, actor, "lease.extend", "lease", lease.id,
                 organization_id=lease.project.organization_id,
                 changes={"ends_at": {"from": before, "to": body.ends_at}})
    return lease


def end_lease(session: Session, actor: Actor, lease: Lease, action: str, *,
              now: datetime | None = None, reason: str | None = None) -> Operation:
    """End an active lease now (or at its end): detach the node from every network and
    power it off in one operation, and record the lessee's usage.

    Raises:
        Conflict: another operation holds the node (the caller tries again later).
    """
    now = now or utcnow()
    node = lease.node
    op = isolation.journal(session, actor, node, isolation.RELEASE,
                           {"lease": str(lease.id), "power_off": True},
                           key=f"baremetal.lease.end:{lease.id}")
    detached = isolation.detach_everything(session, node, op.id)
    ended_at = min(now, lease.ends_at)
    lease.state, lease.ended_at, lease.ends_at = LeaseState.ENDING, ended_at, ended_at
    span = usage.record_lease_usage(session, lease, ended_at)
    audit.record(session, actor, action, "lease", lease.id,
                 organization_id=lease.project.organization_id,
                 changes={"node": node.name, "detached": detached, "operation": op.id,
                          "usage_hours": str(span.quantity), "reason": reason})
    return op


def cancel_lease(session: Session, actor: Actor, ref: str) -> Lease:
    """Cancel a future lease, or end an active one now (the lessee's leads)."""
    lease = get_lease(session, actor, ref, Action.LEASE_CANCEL)
    _stop(session, actor, lease, "lease.cancel")
    return lease


def reclaim_lease(session: Session, actor: Actor, ref: str,
                  body: schemas.LeaseReclaim) -> Lease:
    """Take a node back from its lessee now (operators, for its owner); audited with why."""
    lease = get_lease(session, actor, ref, Action.LEASE_RECLAIM)
    _stop(session, actor, lease, "lease.reclaim", body.reason)
    return lease


def _stop(session: Session, actor: Actor, lease: Lease, action: str,
          reason: str | None = None) -> None:
    if lease.state is LeaseState.CREATED:
        lease.state, lease.ended_at = LeaseState.CANCELLED, utcnow()
        audit.record(session, actor, action, "lease", lease.id,
                     organization_id=lease.project.organization_id,
                     changes={"state": lease.state, "reason": reason})
    elif lease.state is LeaseState.ACTIVE:
        end_lease(session, actor, lease, action, reason=reason)
    else:
        raise Conflict(f"lease {lease.id} is already {lease.state.value}")
