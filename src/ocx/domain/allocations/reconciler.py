"""Keeping providers in line: expiry, member changes, and periodic drift repair.

The reconciler compares what OCX wants with what each provider has, one offering at a
time. It reads every tenant of the offering with one ``describe_many`` (the OpenStack
driver answers from a few listings instead of six round-trips per tenant), and
converges only the allocations that drifted, auditing every repair. A tenant deleted
behind OCX's back is drift too: the allocation forgets it and the apply makes a new one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ocx.domain.actor import SYSTEM, Actor
from ocx.domain.allocations import provisioning
from ocx.domain.allocations.models import Allocation
from ocx.domain.allocations.service import enqueue_apply
from ocx.domain.allocations.states import ON_PROVIDER, AllocationState
from ocx.domain.audit import service as audit
from ocx.domain.operations import service as operations
from ocx.domain.operations.handlers import HandlerContext, OperationRef
from ocx.drivers.project import ProjectDriver, ProjectState
from ocx.errors import DriverError
from ocx.persistence.base import utcnow
from ocx.persistence.db import transaction

S = AllocationState
RECONCILE = "allocation.reconcile"
SETTLED = (S.ACTIVE, S.EXPIRED, S.DISABLED)  # not mid-change: safe to compare


def members_changed(session: Session, actor: Actor, project_id: uuid.UUID) -> int:
    """A project's members changed: re-apply its allocations on their providers."""
    rows = session.scalars(select(Allocation).where(
        Allocation.project_id == project_id, Allocation.state.in_(ON_PROVIDER)))
    count = 0
    for allocation in rows:
        enqueue_apply(session, actor, allocation)
        count += 1
    return count


def expire_allocations(session: Session, now: datetime | None = None) -> int:
    """Allocations past their end become expired; a worker disables their tenants."""
    now = now or utcnow()
    due = session.scalars(select(Allocation).where(
        Allocation.state.in_((S.ACTIVE, S.CHANGING)), Allocation.ends_at <= now).limit(500))
    count = 0
    for allocation in due:
        allocation.state, allocation.status_message = S.EXPIRED, "expired"
        audit.record(session, SYSTEM, "allocation.expired", "allocation", allocation.id,
                     organization_id=allocation.project.organization_id,
                     changes={"ends_at": allocation.ends_at})
        enqueue_apply(session, SYSTEM, allocation)
        count += 1
    return count


def schedule_reconcile(session: Session, now: datetime | None = None) -> int:
    """Enqueue one reconcile operation per offering that has settled allocations."""
    stamp = (now or utcnow()).strftime("%Y%m%dT%H%M")
    offerings = set(session.scalars(select(Allocation.offering_id).where(
        Allocation.state.in_(SETTLED))))
    for offering_id in offerings:
        operations.enqueue(session, SYSTEM, kind=RECONCILE, target=("offering", offering_id),
                           idempotency_key=f"{RECONCILE}:{offering_id}:{stamp}")
    return len(offerings)


@dataclass(frozen=True)
class Check:
    """One allocation to compare, and what the provider said."""

    allocation_id: uuid.UUID
    version: int
    external_id: str
    want: provisioning.Desired
    state: ProjectState | None = None
    error: str | None = None
    missing: bool = False  # the provider has no such tenant (any more)


def _work(ctx: HandlerContext, offering_id: str) -> tuple[ProjectDriver | None, list[Check]]:
    with ctx.sessions() as session:
        # Settled allocations without a tenant are ones whose tenant vanished and whose
        # re-creation failed: they are checked (and repaired) again every round.
        rows = list(session.scalars(select(Allocation).where(
            Allocation.offering_id == uuid.UUID(offering_id), Allocation.state.in_(SETTLED))))
        if not rows:
            return None, []
        driver = provisioning.build_driver(ctx, rows[0].offering)
        work = [Check(a.id, a.version, a.external_id or "", provisioning.desired(session, a))
                for a in rows]
    return driver, work


def describe_all(driver: ProjectDriver, work: list[Check]) -> list[Check]:
    """What the provider has for every tenant, read in bulk (nothing is changed here)."""
    known = [item.external_id for item in work if item.external_id]
    try:
        states = driver.describe_many(known) if known else {}
    except DriverError as exc:
        return [replace(item, error=exc.message) if item.external_id else
                replace(item, missing=True) for item in work]
    return [replace(item, state=states[item.external_id]) if item.external_id in states
            else replace(item, missing=True) for item in work]


def reconcile_offering(ctx: HandlerContext, op: OperationRef) -> dict[str, Any]:
    """``allocation.reconcile``: compare every settled allocation of one offering with its
    tenant; drifted ones get a fresh apply, which converges on OCX's current wishes."""
    driver, work = _work(ctx, op.target_id)
    if driver is None:
        return {"checked": 0, "drifted": 0, "missing": 0, "errors": 0}
    results = describe_all(driver, work)
    drifted = _record(ctx, results)
    errors = [item.error for item in results if item.error]
    if len(errors) == len(work):
        raise DriverError(f"every allocation failed to reconcile: {errors[0]}")
    return {"checked": len(work), "drifted": drifted,
            "missing": sum(item.missing for item in results), "errors": len(errors)}


def _record(ctx: HandlerContext, results: list[Check]) -> int:
    drifted = 0
    with transaction(ctx.sessions) as session:
        for item in results:
            allocation = session.get(Allocation, item.allocation_id)
            if allocation is None or allocation.version != item.version:
                continue  # changed meanwhile: its own apply is on the way
            if item.error is not None:
                allocation.status_message = f"provider error: {item.error}"
                continue
            if item.state is not None:
                provisioning.observe(allocation, item.state)
                found = provisioning.differences(item.want, item.state)
            elif item.external_id:  # gone: the apply finds no tenant, provisions a new one
                found = [f"project missing: the provider has no tenant {item.external_id}"]
                allocation.external_id = None
            else:  # an earlier re-creation failed: try again
                found = ["project missing: no tenant since an earlier repair failed"]
            if found:
                drifted += 1
                repair = enqueue_apply(session, SYSTEM, allocation)
                audit.record(session, SYSTEM, "allocation.drift_found", "allocation",
                             allocation.id, organization_id=allocation.project.organization_id,
                             changes={"differences": found, "repair": str(repair.id),
                                      "external_id": item.external_id})
    return drifted
