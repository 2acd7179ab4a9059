"""The workers' side of the journal: claim, heartbeat, finish and sweep.

Every transition is a compare-and-set ``UPDATE ... WHERE <expected state>``: on
PostgreSQL a concurrent updater waits for the row lock and then re-checks the condition,
on SQLite writers are serialized (``BEGIN IMMEDIATE``), so on both exactly one worker
wins a claim and a worker that lost its lease cannot overwrite the new owner's work.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, or_, select, update
from sqlalchemy.orm import Session

from ocx.domain.actor import SYSTEM, Actor
from ocx.domain.audit import service as audit
from ocx.domain.operations import states
from ocx.domain.operations.models import Operation, OperationState
from ocx.logging import request_id_var
from ocx.persistence.base import utcnow

log = logging.getLogger("ocx.operations")
RUNNING, PENDING = OperationState.RUNNING, OperationState.PENDING
MAX_ERROR_CHARS = 2000
SWEEP_BATCH = 500


@contextmanager
def operation_context(operation_id: uuid.UUID) -> Iterator[None]:
    """Log lines inside carry the operation id as their request id."""
    token = request_id_var.set(str(operation_id))
    try:
        yield
    finally:
        request_id_var.reset(token)


def system_actor(operation_id: uuid.UUID) -> Actor:
    """The system, acting for one operation (its id is the audit trail's request id)."""
    return replace(SYSTEM, request_id=str(operation_id))


def record_change(session: Session, actor: Actor, op: Operation, action: str,
                  **changes: Any) -> None:
    """Audit and log one state change of ``op`` (``operation.<action>``)."""
    audit.record(session, actor, f"operation.{action}", "operation", op.id,
                 changes={"kind": op.kind, "state": op.state.value, **changes})
    detail = changes.get("error") or (f"the lease of {changes['reclaimed_from']} expired"
                                      if changes.get("reclaimed_from") else "")
    with operation_context(op.id):
        log.info("operation %s: %s %s/%s is %s (attempt %d/%d)%s", action, op.kind,
                 op.target_type, op.target_id, op.state.value, op.attempts, op.max_attempts,
                 f": {detail}" if detail else "")


def _rowcount(result: object) -> int:
    return cast(CursorResult[Any], result).rowcount


def claim(session: Session, operation_id: uuid.UUID, worker: str, lease_s: float,
          now: datetime | None = None) -> Operation | None:
    """Take a due pending operation, or a running one whose lease expired; None if not ours."""
    now = now or utcnow()
    op = session.get(Operation, operation_id, populate_existing=True)
    if op is None:
        return None
    previous_owner = op.claimed_by if op.state is RUNNING else None
    claimable = or_(and_(Operation.state == PENDING, Operation.next_attempt_at <= now),
                    and_(Operation.state == RUNNING, Operation.lease_expires_at < now))
    taken = session.execute(
        update(Operation)
        .where(Operation.id == operation_id, Operation.attempts == op.attempts, claimable,
               Operation.attempts < Operation.max_attempts)
        .values(state=RUNNING, claimed_by=worker, attempts=Operation.attempts + 1,
                lease_expires_at=now + timedelta(seconds=lease_s), heartbeat_at=now,
                started_at=now)
        .execution_options(synchronize_session=False))
    if _rowcount(taken) != 1:
        return None
    session.refresh(op)
    extra = {"reclaimed_from": previous_owner} if previous_owner else {}
    record_change(session, system_actor(op.id), op, "start", worker=worker, **extra)
    return op


def _update_held(session: Session, operation_id: uuid.UUID, worker: str,
                 values: dict[str, Any], *, only_if_expired_at: datetime | None = None) -> bool:
    """Apply ``values`` if ``worker`` still holds the running operation (and, for the
    sweep, only if its lease is still expired at ``only_if_expired_at``)."""
    held = [Operation.id == operation_id, Operation.state == RUNNING,
            Operation.claimed_by == worker]
    if only_if_expired_at is not None:
        held.append(Operation.lease_expires_at < only_if_expired_at)
    updated = session.execute(
        update(Operation)
        .where(*held)
        .values(**values)
        .execution_options(synchronize_session=False))
    return _rowcount(updated) == 1


def renew_lease(session: Session, operation_id: uuid.UUID, worker: str, lease_s: float,
                now: datetime | None = None) -> bool:
    """Extend the lease of an operation ``worker`` runs; False if it lost it.

    A lease that already expired is not renewed: the sweep or another worker may be
    taking the operation over, and two owners must never both believe they hold it.
    """
    now = now or utcnow()
    held = [Operation.id == operation_id, Operation.state == RUNNING,
            Operation.claimed_by == worker, Operation.lease_expires_at >= now]
    renewed = session.execute(
        update(Operation).where(*held)
        .values(lease_expires_at=now + timedelta(seconds=lease_s), heartbeat_at=now)
        .execution_options(synchronize_session=False))
    return _rowcount(renewed) == 1


def _finish(session: Session, operation_id: uuid.UUID, worker: str,
            values: dict[str, Any], *, only_if_expired_at: datetime | None = None
            ) -> Operation | None:
    """End ``worker``'s hold with ``values``; the updated row, or None if it lost the lease."""
    if not _update_held(session, operation_id, worker, {"lease_expires_at": None, **values},
                        only_if_expired_at=only_if_expired_at):
        return None
    return session.get(Operation, operation_id, populate_existing=True)


def complete(session: Session, operation_id: uuid.UUID, worker: str,
             result: dict[str, Any] | None, now: datetime | None = None) -> Operation | None:
    """Record success; None if ``worker`` lost the operation meanwhile (result dropped)."""
    op = _finish(session, operation_id, worker, {
        "state": OperationState.DONE, "result": result or {}, "finished_at": now or utcnow()})
    if op is not None:
        record_change(session, system_actor(op.id), op, "done", worker=worker)
    return op


def record_failure(session: Session, operation_id: uuid.UUID, worker: str, error: str, *,
                   permanent: bool, backoff: states.Backoff,
                   now: datetime | None = None) -> Operation | None:
    """Schedule a retry with backoff, or fail for good; None if ``worker`` lost the operation."""
    now = now or utcnow()
    op = session.get(Operation, operation_id, populate_existing=True)
    if op is None or op.state is not RUNNING or op.claimed_by != worker:
        return None
    after = states.after_failure(attempts=op.attempts, max_attempts=op.max_attempts,
                                 permanent=permanent, backoff=backoff, now=now)
    values: dict[str, Any] = {"state": after.state, "last_error": error[:MAX_ERROR_CHARS]}
    if after.next_attempt_at is not None:
        values["next_attempt_at"] = after.next_attempt_at
    else:
        values["finished_at"] = now
    finished = _finish(session, operation_id, worker, values)
    if finished is not None:
        action = "failed" if after.state is OperationState.FAILED else "backoff"
        record_change(session, system_actor(op.id), finished, action, worker=worker,
                      error=error[:MAX_ERROR_CHARS], retry_in_s=after.delay_s)
    return finished


def due_operation_ids(session: Session, *, grace_s: float,
                      now: datetime | None = None) -> list[uuid.UUID]:
    """Operations a worker should be woken for: pending and due for more than ``grace_s``
    (their wake-up was probably lost), or running with an expired lease (worker died)."""
    now = now or utcnow()
    stale = now - timedelta(seconds=grace_s)
    stmt = (select(Operation.id)
            .where(or_(and_(Operation.state == PENDING, Operation.next_attempt_at <= stale),
                       and_(Operation.state == RUNNING, Operation.lease_expires_at < now,
                            Operation.attempts < Operation.max_attempts)))
            .order_by(Operation.next_attempt_at).limit(SWEEP_BATCH))
    return list(session.scalars(stmt))


def fail_abandoned(session: Session, now: datetime | None = None) -> int:
    """Fail running operations whose worker died on their last allowed attempt."""
    now = now or utcnow()
    stmt = (select(Operation)
            .where(Operation.state == RUNNING, Operation.lease_expires_at < now,
                   Operation.attempts >= Operation.max_attempts)
            .limit(SWEEP_BATCH))
    failed = 0
    for op in session.scalars(stmt).all():
        error = f"worker {op.claimed_by} was lost during the last allowed attempt"
        values = {"state": OperationState.FAILED, "last_error": error, "finished_at": now}
        if _finish(session, op.id, op.claimed_by or "", values,
                   only_if_expired_at=now) is not None:
            record_change(session, system_actor(op.id), op, "failed", error=error)
            failed += 1
    return failed
