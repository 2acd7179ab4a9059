"""What workers do for allocations: converge the provider onto OCX's desired state.

One idempotent ``converge`` serves provisioning, quota changes, member changes, expiry
and drift repair alike: it reads what OCX wants from the database and makes the
provider match, whatever state a previous, interrupted attempt left it in.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ocx.domain.actor import SYSTEM
from ocx.domain.allocations.models import Allocation
from ocx.domain.allocations.service import enqueue_release
from ocx.domain.allocations.states import USABLE, AllocationState
from ocx.domain.audit import service as audit
from ocx.domain.identity.models import Membership, User
from ocx.domain.marketplace.models import Offering
from ocx.domain.operations.handlers import HandlerContext, OperationRef
from ocx.drivers import stored_settings as driver_settings
from ocx.drivers.project import ProjectDriver, ProjectSpec, ProjectState, ProjectUser
from ocx.errors import DriverError, OcxError, PermanentDriverError
from ocx.persistence.base import utcnow
from ocx.persistence.db import transaction

S = AllocationState


@dataclass(frozen=True)
class Desired:
    """What OCX wants the tenant to be."""

    spec: ProjectSpec
    enabled: bool
    quota: dict[str, int]
    users: dict[str, ProjectUser]  # by OCX user id


def build_driver(ctx: HandlerContext, offering: Offering) -> ProjectDriver:
    """The offering's driver, with its sealed settings opened."""
    return driver_settings.build(ctx.drivers, ctx.sealer, ProjectDriver, offering.driver,
                                 offering.driver_settings)


def members(session: Session, project_id: uuid.UUID) -> dict[str, ProjectUser]:
    """The project's current members (unexpired, active accounts) as provider users."""
    now = utcnow()
    rows = session.execute(select(Membership, User).join(User).where(
        Membership.project_id == project_id, User.is_active.is_(True)))
    return {str(user.id): ProjectUser(user_id=str(user.id), email=user.email, name=user.name)
            for membership, user in rows
            if membership.expires_at is None or membership.expires_at > now}


def desired(session: Session, allocation: Allocation) -> Desired:
    """OCX's wishes for one allocation's tenant."""
    project = allocation.project
    name = f"ocx-{project.organization.name}-{project.name}-{str(allocation.id)[:8]}"
    spec = ProjectSpec(allocation_id=str(allocation.id), name=name,
                       description=f"OCX allocation {allocation.id} of project "
                                   f"{project.organization.name}:{project.name}")
    usable = allocation.state in USABLE or allocation.state is S.PROVISIONING
    # Members keep their roles on a disabled tenant (which no one can sign in to, and whose
    # credentials were revoked when it was disabled): a release then still knows whose
    # provider-side users to delete, and enabling it again needs no re-granting.
    return Desired(spec=spec, enabled=usable, quota=dict(allocation.quota),
                   users=members(session, project.id))


def differences(want: Desired, have: ProjectState) -> list[str]:
    """How the tenant differs from OCX's wishes, one sentence each (empty: in line)."""
    found = [f"quota {name}: provider has {have.quota.get(name)}, OCX wants {limit}"
             for name, limit in sorted(want.quota.items()) if have.quota.get(name) != limit]
    if have.enabled != want.enabled:
        found.append(f"enabled: provider has {have.enabled}, OCX wants {want.enabled}")
    found += [f"user {uid} missing" for uid in sorted(set(want.users) - have.users)]
    found += [f"user {uid} should not have access" for uid in sorted(have.users - set(want.users))]
    return found


def _load(session: Session, allocation_id: str) -> Allocation:
    allocation = session.get(Allocation, uuid.UUID(allocation_id))
    if allocation is None:
        raise PermanentDriverError(f"allocation {allocation_id} no longer exists")
    return allocation


def converge(driver: ProjectDriver, want: Desired, external_id: str | None) -> ProjectState:
    """Make the tenant match ``want``; its state afterwards."""
    external_id = external_id or driver.ensure_project(want.spec)
    have = driver.describe(external_id)
    changed_quota = {k: v for k, v in want.quota.items() if have.quota.get(k) != v}
    if changed_quota:
        driver.set_quota(external_id, changed_quota)
    for uid in sorted(set(want.users) - have.users):
        driver.ensure_user(external_id, want.users[uid])
    for uid in sorted(have.users - set(want.users)):
        driver.remove_user(external_id, ProjectUser(user_id=uid, email="", name=""))
    if have.enabled != want.enabled:
        driver.set_enabled(external_id, want.enabled)
    return driver.describe(external_id)


def observe(allocation: Allocation, state: ProjectState) -> None:
    """Record what the provider reported (quota, usage, users) on the allocation."""
    allocation.external_id = state.external_id
    allocation.observed = {"quota": dict(state.quota), "usage": dict(state.usage),
                           "enabled": state.enabled, "users": sorted(state.users)}
    allocation.observed_at = utcnow()


APPLIES_IN = (*USABLE, S.PROVISIONING, S.EXPIRED, S.DISABLED, S.FAILED)


def apply(ctx: HandlerContext, op: OperationRef) -> dict[str, Any]:
    """``allocation.apply``: converge, then record what the provider now has."""
    with ctx.sessions() as session:
        allocation = _load(session, op.target_id)
        if op.payload.get("version") != allocation.version:
            return {"skipped": "superseded by a newer change"}
        if allocation.state not in APPLIES_IN:
            return {"skipped": f"the allocation is {allocation.state.value}"}
        want, external_id = desired(session, allocation), allocation.external_id
        offering = allocation.offering
    try:
        state = converge(build_driver(ctx, offering), want, external_id)
    except OcxError as exc:
        _record_trouble(ctx, op, exc)
        raise
    return _record_success(ctx, op, state)


def _record_trouble(ctx: HandlerContext, op: OperationRef, exc: OcxError) -> None:
    """Say what went wrong; on the last try, leave no allocation stuck mid-way."""
    final = op.last_attempt or not isinstance(exc, DriverError) or isinstance(
        exc, PermanentDriverError)
    with transaction(ctx.sessions) as session:
        allocation = _load(session, op.target_id)
        allocation.status_message = f"provider error: {exc.message}"
        if not final or op.payload.get("version") != allocation.version:
            return
        after = {S.PROVISIONING: S.FAILED, S.CHANGING: S.ACTIVE}
        if allocation.state in after:
            before, allocation.state = allocation.state, after[allocation.state]
            if before is S.CHANGING:
                allocation.status_message = f"the change was not applied: {exc.message}"
            audit.record(session, SYSTEM, f"allocation.{allocation.state.value}", "allocation",
                         allocation.id, organization_id=allocation.project.organization_id,
                         changes={"from": before.value, "error": exc.message,
                                  "operation": str(op.id)})


def _record_success(ctx: HandlerContext, op: OperationRef, state: ProjectState
                    ) -> dict[str, Any]:
    with transaction(ctx.sessions) as session:
        allocation = _load(session, op.target_id)
        if allocation.state in (S.RELEASING, S.RELEASED):
            # Released while this apply ran: what it made must go too.
            enqueue_release(session, SYSTEM, allocation)
            return {"external_id": state.external_id, "released_meanwhile": True}
        observe(allocation, state)
        current = op.payload.get("version") == allocation.version
        if current and allocation.state in (S.PROVISIONING, S.CHANGING, S.FAILED):
            before, allocation.state = allocation.state, S.ACTIVE
            allocation.status_message = "active"
            audit.record(session, SYSTEM, "allocation.active", "allocation", allocation.id,
                         organization_id=allocation.project.organization_id,
                         changes={"from": before.value, "external_id": state.external_id})
        elif current and allocation.state is S.ACTIVE:
            allocation.status_message = "active"  # an earlier provider error is over
    return {"external_id": state.external_id, "enabled": state.enabled}


def release(ctx: HandlerContext, op: OperationRef) -> dict[str, Any]:
    """``allocation.release``: delete the tenant and mark the allocation released."""
    with ctx.sessions() as session:
        allocation = _load(session, op.target_id)
        external_id, offering = allocation.external_id, allocation.offering
        spec = desired(session, allocation).spec
    try:
        driver = build_driver(ctx, offering)
        # A tenant made before its id was saved is found again by its allocation tag.
        external_id = external_id or driver.ensure_project(spec)
        driver.delete_project(external_id)
    except OcxError as exc:
        with transaction(ctx.sessions) as session:
            _load(session, op.target_id).status_message = f"release failed: {exc.message}"
        raise
    with transaction(ctx.sessions) as session:
        allocation = _load(session, op.target_id)
        allocation.state, allocation.status_message = S.RELEASED, "released"
        audit.record(session, SYSTEM, "allocation.released", "allocation", allocation.id,
                     organization_id=allocation.project.organization_id,
                     changes={"external_id": external_id})
    return {"deleted": external_id}
