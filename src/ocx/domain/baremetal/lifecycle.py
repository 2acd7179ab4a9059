"""The lease lifecycle without a request: start leases when due, end them when over.

A periodic job (every sweep interval, once across all workers) moves leases along:

- ``created`` and due → ``active``: the node now belongs to the lessee (its owner is
  shut out). If the owner left it on networks, it is detached first (the lease waits
  while another operation holds the node, or while the node's previous lease is
  still being cleaned).
- ``active`` and over → ``ending``: one operation detaches the node from every network
  and powers it off; the lessee's usage span is recorded (once: it is keyed by the
  lease). When that operation is done the lease is ``expired`` and the node is back
  with its owner.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ocx.domain.actor import SYSTEM
from ocx.domain.audit import service as audit
from ocx.domain.baremetal import isolation, leases, power, switching
from ocx.domain.baremetal.models import Lease
from ocx.domain.baremetal.states import LeaseState
from ocx.domain.operations import journal
from ocx.domain.operations.handlers import HandlerContext, OperationRef
from ocx.errors import Conflict
from ocx.persistence.base import utcnow
from ocx.persistence.db import transaction

log = logging.getLogger("ocx.baremetal")
BATCH = 200  # per run: keeps each transaction short; the next run takes the rest


def _detach_owner_networks(session: Session, lease: Lease) -> None:
    """Journal the removal of the networks the owner left on the node, if any.

    Raises:
        Conflict: another operation holds the node.
    """
    node = lease.node
    if any(nic.attachments for nic in node.nics):
        op = isolation.journal(session, SYSTEM, node, isolation.RELEASE,
                               {"lease": str(lease.id), "power_off": False},
                               key=f"baremetal.lease.start:{lease.id}")
        isolation.detach_everything(session, node, op.id)


def start_lease(session: Session, lease: Lease, now: datetime) -> bool:
    """Hand the node to the lessee; False if it cannot happen yet (node still busy)."""
    previous = session.scalar(select(Lease.id).where(
        Lease.node_id == lease.node_id, Lease.state == LeaseState.ENDING))
    if previous is not None:
        return False
    try:
        with session.begin_nested():
            _detach_owner_networks(session, lease)
    except Conflict:
        return False
    lease.state, lease.started_at = LeaseState.ACTIVE, now
    audit.record(session, SYSTEM, "lease.start", "lease", lease.id,
                 organization_id=lease.project.organization_id,
                 changes={"node": lease.node.name, "project": lease.project.name})
    return True


def expire_lease(session: Session, lease: Lease, now: datetime) -> bool:
    """End a lease whose time is up; False if the node is busy (tried again next run)."""
    try:
        with session.begin_nested():
            leases.end_lease(session, SYSTEM, lease, "lease.expire", now=now)
    except Conflict as exc:
        log.info("lease %s is over but cannot end yet: %s", lease.id, exc.message)
        return False
    return True


def move_leases(session: Session, now: datetime | None = None) -> int:
    """Start due leases and end finished ones; how many moved."""
    now = now or utcnow()
    moved = 0
    over = select(Lease).where(Lease.state == LeaseState.ACTIVE, Lease.ends_at <= now)
    for lease in session.scalars(over.order_by(Lease.ends_at).limit(BATCH)).all():
        moved += expire_lease(session, lease, now)
    due = select(Lease).where(Lease.state == LeaseState.CREATED, Lease.starts_at <= now)
    for lease in session.scalars(due.order_by(Lease.starts_at).limit(BATCH)).all():
        if lease.ends_at <= now:  # never started (its node was never free): nothing to bill
            lease.state, lease.ended_at = LeaseState.EXPIRED, now
            audit.record(session, SYSTEM, "lease.expire", "lease", lease.id,
                         organization_id=lease.project.organization_id,
                         changes={"started": False})
            moved += 1
        else:
            moved += start_lease(session, lease, now)
    return moved


def release_node(ctx: HandlerContext, op: OperationRef) -> dict[str, Any]:
    """``baremetal.node.release``: detach every network, power off (at a lease's end),
    and close the lease."""
    result: dict[str, Any] = switching.apply_changes(ctx, op.id)
    if op.payload.get("power_off"):
        result["power_state"] = power.power_off(ctx, uuid.UUID(op.target_id)).value
        # The node is off: its network-boot disk (export, clone) goes back too.
        from ocx.domain.images.provision import release_disk  # images build on bare metal

        result.update(release_disk(ctx, uuid.UUID(op.target_id), op.id))
    with transaction(ctx.sessions) as session:
        lease = session.get(Lease, uuid.UUID(op.payload["lease"]))
        if lease is not None and lease.state is LeaseState.ENDING:
            lease.state = LeaseState.EXPIRED
            audit.record(session, journal.system_actor(op.id), "lease.end", "lease", lease.id,
                         organization_id=lease.project.organization_id,
                         changes={"node": lease.node.name, "operation": op.id})
    return result
