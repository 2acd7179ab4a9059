"""Running one journalled operation: claim it, keep its lease alive, call its handler,
record the outcome. A task-queue message only says "look at operation X"; everything
else comes from (and goes to) the database."""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ocx.domain.operations import journal
from ocx.domain.operations.handlers import HandlerContext, HandlerRegistry, OperationRef
from ocx.domain.operations.models import Operation
from ocx.domain.operations.states import Backoff, OperationState
from ocx.errors import DriverError, OcxError, PermanentDriverError
from ocx.persistence.base import utcnow
from ocx.persistence.db import transaction

log = logging.getLogger("ocx.workers")


@dataclass(frozen=True)
class WorkerContext:
    """Everything a worker thread needs to run operations."""

    sessions: sessionmaker[Session]
    handlers: HandlerRegistry
    handler_context: HandlerContext
    lease_s: float
    backoff: Backoff
    wake_later: Callable[[uuid.UUID, float], None]


@dataclass(frozen=True)
class Outcome:
    """What the handler did: a result, or an error and whether retrying may help."""

    result: dict[str, Any] | None = None
    error: str | None = None
    permanent: bool = False


# Host and pid alone collide between containers (same hostname, pid 1); the random part
# keeps claims of different processes apart, since finishing is fenced on the name.
_PROCESS_TAG = secrets.token_hex(4)


def worker_identity() -> str:
    """Who is running: host, process, thread and a per-process tag (``claimed_by``)."""
    return (f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}:"
            f"{_PROCESS_TAG}")


class Heartbeat:
    """Renews an operation's lease every third of its length while the handler runs."""

    def __init__(self, ctx: WorkerContext, operation_id: uuid.UUID, worker: str) -> None:
        self._ctx, self._id, self._worker = ctx, operation_id, worker
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{operation_id}",
                                        daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        with journal.operation_context(self._id):
            while not self._stop.wait(self._ctx.lease_s / 3):
                try:
                    with transaction(self._ctx.sessions) as session:
                        kept = journal.renew_lease(session, self._id, self._worker,
                                                   self._ctx.lease_s)
                except Exception:
                    # A database hiccup: try again next beat; the lease outlives two misses.
                    log.warning("could not renew the lease", exc_info=True)
                    continue
                if not kept:
                    log.warning("lease lost: another worker may be running this operation")
                    return


def execute_operation(ctx: WorkerContext, operation_id: uuid.UUID,
                      worker: str | None = None) -> OperationState | None:
    """Run one operation if it can be claimed; its new state, or None if not claimed."""
    worker = worker or worker_identity()
    with journal.operation_context(operation_id):
        with transaction(ctx.sessions) as session:
            op = journal.claim(session, operation_id, worker, ctx.lease_s)
            ref = OperationRef.of(op) if op is not None else None
        if ref is None:
            log.debug("not claimable: finished, not yet due, or running elsewhere")
            return None
        with Heartbeat(ctx, ref.id, worker):
            outcome = run_handler(ctx, ref)
        return _record(ctx, ref, worker, outcome)


def run_due_operations(ctx: WorkerContext, worker: str, *, rounds: int = 10) -> int:
    """Run every due operation in this process, and those they enqueue, in up to ``rounds``
    passes (tests and the demo seed, which have no worker threads); how many ran."""
    ran = 0
    for _ in range(rounds):
        with ctx.sessions() as session:
            due = list(session.scalars(select(Operation.id).where(
                Operation.state == OperationState.PENDING,
                Operation.next_attempt_at <= utcnow()).order_by(Operation.created_at)))
        if not due:
            return ran
        ran += sum(execute_operation(ctx, op_id, worker) is not None for op_id in due)
    return ran


def run_handler(ctx: WorkerContext, ref: OperationRef) -> Outcome:
    """Call the handler of ``ref.kind`` and classify what happened."""
    try:
        result = ctx.handlers.get(ref.kind)(ctx.handler_context, ref)
    except PermanentDriverError as exc:
        return Outcome(error=exc.message, permanent=True)
    except DriverError as exc:
        return Outcome(error=exc.message)
    except OcxError as exc:
        # Domain errors (bad settings, a vanished row) will not heal by retrying.
        return Outcome(error=exc.message, permanent=True)
    except Exception as exc:
        # Most likely a bug, possibly a passing database error: retry, within max attempts.
        # The requester can read last_error, so the details (SQL, hosts) go to the log only.
        log.exception("operation handler crashed")
        return Outcome(error=f"internal error ({type(exc).__name__}); operators find the "
                             "details in the worker log under this operation's id")
    return Outcome(result=result or {})


def _record(ctx: WorkerContext, ref: OperationRef, worker: str,
            outcome: Outcome) -> OperationState | None:
    with transaction(ctx.sessions) as session:
        if outcome.error is None:
            op = journal.complete(session, ref.id, worker, outcome.result)
        else:
            op = journal.record_failure(session, ref.id, worker, outcome.error,
                                        permanent=outcome.permanent, backoff=ctx.backoff)
        if op is None:
            log.warning("lease lost while running; the outcome is dropped (the operation "
                        "is idempotent and its new owner records its own)")
            return None
        state, next_attempt_at = op.state, op.next_attempt_at
    if state is OperationState.PENDING:
        ctx.wake_later(ref.id, max((next_attempt_at - utcnow()).total_seconds(), 0.0))
    return state
