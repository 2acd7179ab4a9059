"""Operations for services and the API: enqueue, list, show, retry.

Services call :func:`enqueue` inside their own transaction. The ids of new operations
are kept in ``session.info``; the runtime publishes them to the task engine only after
that transaction commits (see ``ocx.runtime``), so a worker never wakes for a row it
cannot see yet, and a rolled-back request wakes nobody.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ocx.domain import policy
from ocx.domain.actor import Actor
from ocx.domain.audit.service import SECRET_FIELDS
from ocx.domain.operations.journal import record_change
from ocx.domain.operations.models import Operation, OperationState
from ocx.domain.policy import Action, Target
from ocx.errors import Conflict, NotFound
from ocx.persistence.base import utcnow
from ocx.persistence.pagination import Page, paginate

WAKEUPS_KEY = "ocx.operation_wakeups"
MAX_ATTEMPTS_KEY = "ocx.operation_max_attempts"  # set by the runtime from settings
DEFAULT_MAX_ATTEMPTS = 8


def request_wakeup(session: Session, operation_ids: Iterable[uuid.UUID]) -> None:
    """Ask for workers to be woken for these operations once the transaction commits."""
    session.info.setdefault(WAKEUPS_KEY, []).extend(operation_ids)


def take_wakeups(session: Session) -> list[uuid.UUID]:
    """The operation ids waiting to be published, removed from the session."""
    return list(dict.fromkeys(session.info.pop(WAKEUPS_KEY, [])))


def _check_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as plain JSON; refuses keys that look like secrets (a programming error)."""
    text = json.dumps(payload, default=str, sort_keys=True)
    for key in _keys(payload):
        if any(secret in key.lower() for secret in SECRET_FIELDS):
            raise ValueError(f"operation payloads never carry secrets; remove {key!r}")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _keys(value: Any) -> Iterable[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield str(key)
            yield from _keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _keys(inner)


def enqueue(session: Session, actor: Actor, *, kind: str, target: tuple[str, uuid.UUID | str],
            idempotency_key: str, payload: dict[str, Any] | None = None,
            max_attempts: int | None = None) -> Operation:
    """Journal a call to an outside system; the same idempotency key returns the same operation.

    Raises:
        Conflict: the key already belongs to an operation of another kind.
    """
    existing = _by_key(session, idempotency_key, kind)
    if existing is not None:
        return existing
    op = Operation(kind=kind, target_type=target[0], target_id=str(target[1]),
                   idempotency_key=idempotency_key, payload=_check_payload(payload or {}),
                   max_attempts=max_attempts or session.info.get(MAX_ATTEMPTS_KEY,
                                                                 DEFAULT_MAX_ATTEMPTS),
                   state=OperationState.PENDING, attempts=0, requested_by=actor.user_id,
                   request_id=actor.request_id, next_attempt_at=utcnow())
    inserted = _insert_once(session, op)
    if inserted is op:
        record_change(session, actor, op, "enqueue", target=f"{op.target_type}/{op.target_id}")
        request_wakeup(session, [op.id])
    return inserted


def _insert_once(session: Session, op: Operation) -> Operation:
    """Insert ``op``, or return the one a concurrent request journalled with its key."""
    try:
        with session.begin_nested():
            session.add(op)
    except IntegrityError:
        raced = _by_key(session, op.idempotency_key, op.kind)
        if raced is None:
            raise
        return raced
    return op


def _by_key(session: Session, idempotency_key: str, kind: str) -> Operation | None:
    op = session.scalar(select(Operation).where(Operation.idempotency_key == idempotency_key))
    if op is not None and op.kind != kind:
        raise Conflict(f"idempotency key {idempotency_key!r} belongs to a {op.kind} operation")
    return op


def _authorized(session: Session, actor: Actor, action: Action,
                operation_id: uuid.UUID) -> Operation:
    op = session.get(Operation, operation_id)
    if op is None:
        raise NotFound("operation not found")
    policy.authorize(actor, action, Target(owner_id=op.requested_by))
    return op


def list_operations(session: Session, actor: Actor, *, cursor: str | None, limit: int,
                    state: OperationState | None = None, kind: str | None = None,
                    target: tuple[str, uuid.UUID | str] | None = None, mine: bool = False,
                    newest_first: bool = False) -> Page[Operation]:
    """Operations the actor may see: operators all, others those they requested.

    ``target`` keeps those on one object (``("allocation", id)``), ``mine`` only the
    actor's own (operators included), ``newest_first`` reverses the order.
    """
    policy.authorize(actor, Action.OPERATION_LIST)
    stmt = select(Operation)
    requester = actor.user_id if mine else policy.requester_scope(actor)
    if requester is not None:
        stmt = stmt.where(Operation.requested_by == requester)
    if state is not None:
        stmt = stmt.where(Operation.state == state)
    if kind:
        stmt = stmt.where(Operation.kind == kind)
    if target is not None:
        stmt = stmt.where(Operation.target_type == target[0],
                          Operation.target_id == str(target[1]))
    return paginate(session, stmt, Operation, cursor=cursor, limit=limit,
                    newest_first=newest_first)


def get_operation(session: Session, actor: Actor, operation_id: uuid.UUID) -> Operation:
    """One operation the actor may see."""
    return _authorized(session, actor, Action.OPERATION_READ, operation_id)


def retry(session: Session, actor: Actor, operation_id: uuid.UUID) -> Operation:
    """Send a failed operation back to pending with a fresh set of attempts (operators).

    Raises:
        Conflict: the operation has not failed (it is pending, running or done).
    """
    op = _authorized(session, actor, Action.OPERATION_RETRY, operation_id)
    # Compare-and-set on the state, so a retry racing another retry or the sweep wins once.
    reset = session.execute(
        update(Operation)
        .where(Operation.id == op.id, Operation.state == OperationState.FAILED)
        .values(state=OperationState.PENDING, attempts=0, next_attempt_at=utcnow(),
                claimed_by=None, finished_at=None)
        .execution_options(synchronize_session=False))
    session.refresh(op)
    if cast(CursorResult[Any], reset).rowcount != 1:
        raise Conflict(f"only failed operations can be retried; this one is {op.state.value}")
    record_change(session, actor, op, "retry", last_error=op.last_error)
    request_wakeup(session, [op.id])
    return op
