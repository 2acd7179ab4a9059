"""Allocation rules: the project asks, the provider (or its policy) decides, workers apply."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from ocx.domain import policy
from ocx.domain.actor import Actor
from ocx.domain.allocations import schemas
from ocx.domain.allocations.models import Allocation, AllocationChange, ChangeKind, ChangeState
from ocx.domain.allocations.states import ON_PROVIDER, USABLE, AllocationState, check_move
from ocx.domain.audit import service as audit
from ocx.domain.identity.models import Project
from ocx.domain.identity.service import find_project, project_target
from ocx.domain.marketplace import service as marketplace
from ocx.domain.marketplace.models import Offering, Provider
from ocx.domain.marketplace.schemas import OfferingUpdate
from ocx.domain.marketplace.service import find_offering, find_plan, offering_target
from ocx.domain.operations import service as operations
from ocx.domain.operations.models import Operation
from ocx.domain.policy import Action, Target
from ocx.drivers.registry import DriverRegistry
from ocx.errors import Conflict, Forbidden, InvalidInput, NotFound
from ocx.persistence.base import utcnow
from ocx.persistence.db import flush_unique
from ocx.persistence.pagination import Page, paginate
from ocx.persistence.sealed import Sealer

S = AllocationState
APPLY, RELEASE = "allocation.apply", "allocation.release"
LIVE = (S.REQUESTED, S.APPROVED, *ON_PROVIDER, S.FAILED)
HOLDS_TENANT = (*ON_PROVIDER, S.FAILED, S.RELEASING)  # may have something on the provider


def allocation_target(allocation: Allocation) -> Target:
    """Who may see and act on an allocation: the project's people, and the provider."""
    return Target(org_id=allocation.project.organization_id, project_id=allocation.project_id,
                  provider_org_id=allocation.offering.provider.organization_id)


def find_allocation(session: Session, ref: str | uuid.UUID) -> Allocation:
    """An allocation by id. Raises NotFound."""
    try:
        allocation = session.get(Allocation, uuid.UUID(str(ref)))
    except ValueError:
        allocation = None
    if allocation is None:
        raise NotFound("allocation not found")
    return allocation


def label(allocation: Allocation) -> str:
    """How people name an allocation: ORG:PROJECT on PROVIDER:OFFERING."""
    return (f"{allocation.project.organization.name}:{allocation.project.name} on "
            f"{allocation.offering.provider.name}:{allocation.offering.name}")


def check_quota(offering: Offering, quota: dict[str, int], *, fill: bool) -> dict[str, int]:
    """Validate a quota against the offering's components; with ``fill``, add defaults.

    Raises:
        InvalidInput: an unknown component, or a limit above the offering's max.
    """
    known = {c["name"]: c for c in offering.components}
    unknown = sorted(set(quota) - set(known))
    if unknown:
        raise InvalidInput(f"quota: {offering.name} has no component "
                           f"{', '.join(unknown)}; it has {', '.join(sorted(known))}")
    for name, limit in quota.items():
        most = known[name].get("max")
        if most is not None and limit > most:
            raise InvalidInput(f"quota: {name} {limit} exceeds the offering's max of {most}")
    if not fill:
        return dict(quota)
    return {name: quota.get(name, c.get("default") or 0) for name, c in known.items()}


def enqueue_apply(session: Session, actor: Actor, allocation: Allocation) -> Operation:
    """Ask a worker to bring the provider in line with the allocation's new version."""
    allocation.version += 1
    session.flush()
    return operations.enqueue(
        session, actor, kind=APPLY, target=("allocation", allocation.id),
        idempotency_key=f"{APPLY}:{allocation.id}:{allocation.version}",
        payload={"version": allocation.version})


def _move(session: Session, actor: Actor, allocation: Allocation, target: AllocationState,
          **changes: Any) -> None:
    check_move(allocation.state, target)
    before = allocation.state
    allocation.state = target
    audit.record(session, actor, f"allocation.{target.value}", "allocation", allocation.id,
                 organization_id=allocation.project.organization_id,
                 changes={"from": before.value, "to": target.value, **changes})


def update_offering(session: Session, actor: Actor, registry: DriverRegistry, sealer: Sealer,
                    ref: str, body: OfferingUpdate) -> Offering:
    """Change an offering; only operators may repoint one that has tenants on its provider.

    Raises:
        Conflict: a provider admin changed the driver settings (where the provider is, how
            OCX signs in) of an offering with live allocations, which the change would strand.
    """
    before = dict(find_offering(session, ref).driver_settings)
    offering = marketplace.update_offering(session, actor, registry, sealer, ref, body)
    if actor.is_operator or offering.driver_settings == before:
        return offering
    live = list(session.scalars(select(Allocation.id).where(
        Allocation.offering_id == offering.id, Allocation.state.in_(HOLDS_TENANT))
        .order_by(Allocation.created_at).limit(5)))
    if live:
        raise Conflict(f"{offering.provider.name}:{offering.name} has live allocations "
                       f"({', '.join(map(str, live))}); changing its driver settings would "
                       "strand their tenants: release them first, or ask an operator")
    return offering


def _check_open(offering: Offering, project: Project) -> None:
    audience = offering_target(offering).audience_org_ids
    if audience is not None and project.organization_id not in audience:
        raise Forbidden(f"projects of {project.organization.name} may not use "
                        f"{offering.provider.name}:{offering.name}")
    if not offering.is_active:
        raise Conflict(f"{offering.provider.name}:{offering.name} takes no new requests")


def request(session: Session, actor: Actor,
            body: schemas.AllocationRequest) -> tuple[Allocation, Operation | None]:
    """Ask for a share of an offering for a project (its PI or managers)."""
    project = find_project(session, body.project, actor)
    offering = find_offering(session, body.offering)
    policy.authorize(actor, Action.OFFERING_READ, offering_target(offering))
    policy.authorize(actor, Action.ALLOCATION_REQUEST, project_target(project))
    _check_open(offering, project)
    quota = check_quota(offering, body.quota, fill=True)
    _check_end(body.ends_at)
    existing = session.scalar(select(Allocation.id).where(
        Allocation.project_id == project.id, Allocation.offering_id == offering.id,
        Allocation.state.in_(LIVE)).limit(1))
    if existing is not None:
        raise Conflict(f"{project.name} already has allocation {existing} on {offering.name}; "
                       "ask for a change instead")
    allocation = Allocation(
        project=project, offering=offering, project_id=project.id, offering_id=offering.id,
        plan=find_plan(session, offering, body.plan), state=S.REQUESTED,
        quota=quota, starts_at=utcnow(),
        ends_at=body.ends_at, justification=body.justification, requested_by=actor.user_id)
    session.add(allocation)
    flush_unique(session, f"a live allocation of {project.name} on {offering.name}")
    audit.record(session, actor, "allocation.request", "allocation", allocation.id,
                 organization_id=project.organization_id,
                 changes={"allocation": label(allocation), "quota": allocation.quota})
    if not offering.auto_approve:
        return allocation, None
    return allocation, _approve(session, actor, allocation, "approved by the offering's policy")


def _approve(session: Session, actor: Actor, allocation: Allocation, reason: str) -> Operation:
    _move(session, actor, allocation, S.APPROVED, reason=reason)
    allocation.decided_by, allocation.decided_at = actor.user_id, utcnow()
    allocation.status_message = reason
    _move(session, actor, allocation, S.PROVISIONING)
    return enqueue_apply(session, actor, allocation)


def decide(session: Session, actor: Actor, ref: str, approve: bool,
           body: schemas.Decision) -> tuple[Allocation, Operation | None]:
    """Approve (and start provisioning) or deny a requested allocation (the provider)."""
    allocation = find_allocation(session, ref)
    policy.authorize(actor, Action.ALLOCATION_DECIDE, allocation_target(allocation))
    if allocation.state is not S.REQUESTED:
        raise Conflict(f"the allocation is {allocation.state.value}, not requested")
    if approve:
        return allocation, _approve(session, actor, allocation, body.reason or "approved")
    _move(session, actor, allocation, S.DENIED, reason=body.reason)
    allocation.decided_by, allocation.decided_at = actor.user_id, utcnow()
    allocation.status_message = body.reason or "denied"
    return allocation, None


def list_allocations(session: Session, actor: Actor, *, cursor: str | None, limit: int,
                     project: str | None = None, offering: str | None = None,
                     state: AllocationState | None = None, provider: str | None = None
                     ) -> Page[Allocation]:
    """Allocations of the actor's projects and of the offerings they run (operators: all),
    optionally only of one project, offering, state or provider."""
    policy.authorize(actor, Action.ALLOCATION_LIST)
    stmt = select(Allocation).join(Project).join(Offering).join(Provider)
    if not actor.is_operator:
        admin_orgs = actor.admin_org_ids()
        stmt = stmt.where(or_(Allocation.project_id.in_(actor.project_roles),
                              Project.organization_id.in_(admin_orgs),
                              Provider.organization_id.in_(admin_orgs)))
    if project:
        stmt = stmt.where(Allocation.project_id == find_project(session, project, actor).id)
    if offering:
        stmt = stmt.where(Allocation.offering_id == find_offering(session, offering).id)
    if state:
        stmt = stmt.where(Allocation.state == state)
    if provider:
        stmt = stmt.where(Provider.id == marketplace.find_provider(session, provider).id)
    return paginate(session, stmt, Allocation, cursor=cursor, limit=limit)


def get_allocation(session: Session, actor: Actor, ref: str) -> Allocation:
    """One allocation the actor may see."""
    allocation = find_allocation(session, ref)
    policy.authorize(actor, Action.ALLOCATION_READ, allocation_target(allocation))
    return allocation


def release(session: Session, actor: Actor, ref: str) -> tuple[Allocation, Operation | None]:
    """Give an allocation back: the provider-side tenant is deleted by a worker."""
    allocation = find_allocation(session, ref)
    policy.authorize(actor, Action.ALLOCATION_RELEASE, allocation_target(allocation))
    if allocation.state is S.REQUESTED:  # nothing was made on the provider yet
        _move(session, actor, allocation, S.RELEASED)
        return allocation, None
    _move(session, actor, allocation, S.RELEASING)
    return allocation, enqueue_release(session, actor, allocation)


def set_enabled(session: Session, actor: Actor, ref: str, enabled: bool,
                body: schemas.Decision) -> tuple[Allocation, Operation]:
    """Suspend an allocation (disabled: tenant disabled, credentials revoked) or lift the
    suspension (the provider's admins, operators); a worker applies it."""
    allocation = find_allocation(session, ref)
    policy.authorize(actor, Action.ALLOCATION_DECIDE, allocation_target(allocation))
    if enabled:
        if allocation.state is not S.DISABLED:
            raise Conflict(f"the allocation is {allocation.state.value}, not disabled")
        if allocation.ends_at is not None and allocation.ends_at <= utcnow():
            raise Conflict(f"the allocation ended at {allocation.ends_at.isoformat()}; "
                           "renew it (ends_at) before enabling it")
        _move(session, actor, allocation, S.ACTIVE, reason=body.reason)
        allocation.status_message = f"enabled: {body.reason}" if body.reason else "active"
    else:
        if not body.reason.strip():
            raise InvalidInput("reason: say why the allocation is disabled")
        if allocation.state not in USABLE:
            raise Conflict(f"the allocation is {allocation.state.value}; only active "
                           "allocations can be disabled")
        _move(session, actor, allocation, S.DISABLED, reason=body.reason)
        allocation.status_message = f"disabled: {body.reason}"
    return allocation, enqueue_apply(session, actor, allocation)


def enqueue_release(session: Session, actor: Actor, allocation: Allocation) -> Operation:
    """Ask a worker to delete the tenant; every earlier apply is superseded."""
    allocation.version += 1
    session.flush()
    return operations.enqueue(
        session, actor, kind=RELEASE, target=("allocation", allocation.id),
        idempotency_key=f"{RELEASE}:{allocation.id}:{allocation.version}")


# --- change requests ------------------------------------------------------------------

def request_change(session: Session, actor: Actor, ref: str, body: schemas.ChangeRequest
                   ) -> tuple[AllocationChange, Operation | None]:
    """Ask for a new quota (up or down) or a later end (PI, managers)."""
    allocation = find_allocation(session, ref)
    policy.authorize(actor, Action.ALLOCATION_CHANGE, allocation_target(allocation))
    if allocation.state not in ON_PROVIDER:
        raise Conflict(f"the allocation is {allocation.state.value}; only allocations on "
                       "the provider can change")
    if body.quota is not None and not body.quota:
        raise InvalidInput("quota: name at least one component to change")
    if body.kind is ChangeKind.QUOTA and allocation.state in (S.EXPIRED, S.DISABLED):
        raise Conflict(f"the allocation is {allocation.state.value}; renew it (ends_at) "
                       "before changing its quota")
    quota = check_quota(allocation.offering, body.quota or {}, fill=False)
    _check_usage(allocation, quota)
    _check_end(body.ends_at)
    change = AllocationChange(allocation_id=allocation.id, kind=body.kind,
                              state=ChangeState.REQUESTED, quota=quota, ends_at=body.ends_at,
                              justification=body.justification, requested_by=actor.user_id)
    session.add(change)
    session.flush()
    refusal = _auto_refusal(session, allocation, change)
    audit.record(session, actor, "allocation.change.request", "allocation", allocation.id,
                 organization_id=allocation.project.organization_id,
                 changes={"kind": change.kind.value, "quota": quota, "ends_at": body.ends_at,
                          "note": refusal or ""})
    if refusal is not None:
        change.note = refusal
        return change, None
    change.automatic, change.note = True, "approved automatically by the offering's policy"
    return change, _apply_change(session, actor, allocation, change, "automatic")


def _auto_refusal(session: Session, allocation: Allocation,
                  change: AllocationChange) -> str | None:
    """Why the offering's policy does not approve this change by itself (None: it does).

    Auto-approving offerings approve quota changes within the components' limits, and
    renewals only up to the offering's bounds (``auto_renewals`` times, ``auto_term_days``
    after the allocation's start), so that no allocation lives forever unreviewed.
    """
    offering = allocation.offering
    if not offering.auto_approve:
        return "waiting for the provider"
    if change.kind is not ChangeKind.RENEWAL or change.ends_at is None:
        return None
    granted = session.scalar(select(func.count()).select_from(AllocationChange).where(
        AllocationChange.allocation_id == allocation.id, AllocationChange.automatic.is_(True),
        AllocationChange.kind == ChangeKind.RENEWAL)) or 0
    name = f"{offering.provider.name}:{offering.name}"
    if granted >= offering.auto_renewals:
        return (f"not approved automatically: {name} renews an allocation automatically at "
                f"most {offering.auto_renewals} times and this one was renewed {granted} "
                "times; waiting for the provider")
    latest = allocation.starts_at + timedelta(days=offering.auto_term_days)
    if change.ends_at > latest:
        return (f"not approved automatically: {name} renews automatically up to "
                f"{offering.auto_term_days} days after the allocation's start "
                f"({latest.date().isoformat()}); waiting for the provider")
    return None


def _check_end(ends_at: datetime | None) -> None:
    if ends_at is not None and ends_at <= utcnow():
        raise InvalidInput("ends_at must be in the future")


def _check_usage(allocation: Allocation, quota: dict[str, int]) -> None:
    usage = allocation.observed.get("usage", {})
    below = {name: usage[name] for name, limit in quota.items()
             if 0 <= limit < usage.get(name, 0)}
    if below:
        in_use = ", ".join(f"{name}: {used} in use" for name, used in sorted(below.items()))
        raise Conflict(f"the new quota is below current usage ({in_use}); free some first")


def decide_change(session: Session, actor: Actor, ref: str, change_id: uuid.UUID,
                  approve: bool, body: schemas.Decision
                  ) -> tuple[AllocationChange, Operation | None]:
    """Approve (and apply) or deny a change request (the provider)."""
    allocation = find_allocation(session, ref)
    policy.authorize(actor, Action.ALLOCATION_DECIDE, allocation_target(allocation))
    change = session.get(AllocationChange, change_id)
    if change is None or change.allocation_id != allocation.id:
        raise NotFound("change request not found")
    if change.state is not ChangeState.REQUESTED:
        raise Conflict(f"the change request is {change.state.value} already")
    if approve:
        # Re-checked now: usage and time may have moved since the request.
        _check_usage(allocation, change.quota)
        _check_end(change.ends_at)
        change.note = body.reason
        return change, _apply_change(session, actor, allocation, change, body.reason)
    change.state, change.decided_by, change.decided_at = (
        ChangeState.DENIED, actor.user_id, utcnow())
    change.note = body.reason
    audit.record(session, actor, "allocation.change.deny", "allocation", allocation.id,
                 organization_id=allocation.project.organization_id,
                 changes={"change": str(change.id), "reason": body.reason})
    return change, None


def _apply_change(session: Session, actor: Actor, allocation: Allocation,
                  change: AllocationChange, reason: str) -> Operation:
    change.state, change.decided_by, change.decided_at = (
        ChangeState.APPROVED, actor.user_id, utcnow())
    if change.kind is ChangeKind.QUOTA:
        allocation.quota = {**allocation.quota, **change.quota}
    else:
        allocation.ends_at = change.ends_at
    # A renewal of a suspended allocation keeps it suspended: only enable lifts that.
    if allocation.state not in (S.PROVISIONING, S.CHANGING, S.DISABLED):
        _move(session, actor, allocation, S.CHANGING, change=str(change.id), reason=reason)
    return enqueue_apply(session, actor, allocation)


def pending_changes(session: Session, actor: Actor, *, limit: int,
                    provider: str | None = None) -> list[AllocationChange]:
    """Change requests waiting for a provider's decision, oldest first: of the offerings
    the actor runs (operators: all), optionally of one provider."""
    policy.authorize(actor, Action.ALLOCATION_LIST)
    stmt = (select(AllocationChange).join(Allocation).join(Offering).join(Provider)
            .where(AllocationChange.state == ChangeState.REQUESTED)
            .options(joinedload(AllocationChange.allocation)))
    if not actor.is_operator:
        stmt = stmt.where(Provider.organization_id.in_(actor.admin_org_ids()))
    if provider:
        stmt = stmt.where(Provider.id == marketplace.find_provider(session, provider).id)
    return list(session.scalars(stmt.order_by(AllocationChange.created_at).limit(limit)))


def list_changes(session: Session, actor: Actor, ref: str) -> list[AllocationChange]:
    """An allocation's change requests, oldest first."""
    allocation = get_allocation(session, actor, ref)
    return list(session.scalars(select(AllocationChange)
                                .where(AllocationChange.allocation_id == allocation.id)
                                .order_by(AllocationChange.created_at)))
