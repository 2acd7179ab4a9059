"""Running operations with fake handlers: outcomes, retries, heartbeats, lost leases."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace

import pytest

from ocx.domain.operations import journal
from ocx.domain.operations.handlers import (
    HandlerContext,
    HandlerRegistry,
    OperationRef,
    build_handlers,
)
from ocx.domain.operations.models import Operation, OperationState
from ocx.domain.operations.states import Backoff
from ocx.drivers.notifier.fake import FakeNotifier
from ocx.drivers.registry import DriverRegistry
from ocx.errors import DriverError, InvalidInput, PermanentDriverError
from ocx.persistence.sealed import Sealer
from ocx.runtime import Runtime
from ocx.workers.operations import WorkerContext, execute_operation, worker_identity
from tests.unit.workers.conftest import enqueue


def _context(runtime: Runtime, handler: object, woken: list[tuple[uuid.UUID, float]],
             lease_s: float = 30.0) -> WorkerContext:
    handlers = HandlerRegistry()
    handlers.register("test.echo", handler)  # type: ignore[arg-type]
    return WorkerContext(
        sessions=runtime.sessions, handlers=handlers,
        handler_context=HandlerContext(sessions=runtime.sessions,
                                       notifier=FakeNotifier(FakeNotifier.Settings()),
                                       drivers=DriverRegistry(),
                                       sealer=Sealer("unit-test-secret-key-0123456789")),
        lease_s=lease_s, backoff=Backoff(2.0, 10.0),
        wake_later=lambda op_id, delay: woken.append((op_id, delay)))


def _run(runtime: Runtime, handler: object, kind: str = "test.echo",
         lease_s: float = 30.0) -> tuple[Operation, list[tuple[uuid.UUID, float]]]:
    woken: list[tuple[uuid.UUID, float]] = []
    with runtime.sessions() as session, session.begin():
        op = enqueue(session, kind=kind)
    execute_operation(_context(runtime, handler, woken, lease_s), op.id, "w1")
    with runtime.sessions() as session:
        found = session.get(Operation, op.id)
        assert found is not None
        return found, woken


def test_success_records_the_result(runtime: Runtime) -> None:
    op, woken = _run(runtime, lambda ctx, ref: {"echo": ref.payload["n"]})
    assert (op.state, op.result, op.attempts, woken) == (OperationState.DONE, {"echo": 1}, 1, [])


def test_driver_error_is_retried_with_backoff(runtime: Runtime) -> None:
    def busy(ctx: HandlerContext, ref: OperationRef) -> None:
        raise DriverError("the server is busy")

    op, woken = _run(runtime, busy)
    assert (op.state, op.last_error) == (OperationState.PENDING, "the server is busy")
    assert [op_id for op_id, _ in woken] == [op.id]
    assert 1.5 < woken[0][1] <= 2.0


@pytest.mark.parametrize("error", [PermanentDriverError("no such mailbox"),
                                   InvalidInput("no such mailbox")])
def test_permanent_errors_fail_at_once(runtime: Runtime, error: Exception) -> None:
    def refuse(ctx: HandlerContext, ref: OperationRef) -> None:
        raise error

    op, woken = _run(runtime, refuse)
    assert (op.state, op.last_error, woken) == (OperationState.FAILED, "no such mailbox", [])


def test_a_crashing_handler_is_retried(runtime: Runtime) -> None:
    def crash(ctx: HandlerContext, ref: OperationRef) -> None:
        raise KeyError("oops")

    op, _ = _run(runtime, crash)
    assert op.state is OperationState.PENDING
    assert op.last_error is not None and op.last_error.startswith("internal error (KeyError)")
    assert "oops" not in op.last_error


def test_unknown_kind_fails(runtime: Runtime) -> None:
    op, _ = _run(runtime, lambda ctx, ref: None, kind="test.unknown")
    assert op.state is OperationState.FAILED
    assert op.last_error == "no handler for operation kind 'test.unknown'"


def test_the_heartbeat_renews_the_lease_while_the_handler_runs(runtime: Runtime) -> None:
    def slow(ctx: HandlerContext, ref: OperationRef) -> dict[str, float]:
        time.sleep(0.8)
        return {}

    op, _ = _run(runtime, slow, lease_s=0.3)
    assert op.state is OperationState.DONE  # not reclaimable midway: the lease kept moving
    assert op.heartbeat_at is not None and op.started_at is not None
    assert op.heartbeat_at > op.started_at


def test_a_worker_that_lost_its_lease_drops_its_outcome(runtime: Runtime) -> None:
    def stolen(ctx: HandlerContext, ref: OperationRef) -> dict[str, str]:
        with runtime.sessions() as session, session.begin():
            operation = session.get(Operation, ref.id)
            assert operation is not None
            operation.claimed_by = "someone-else"
        return {"mine": "no"}

    op, _ = _run(runtime, stolen)
    assert (op.state, op.claimed_by, op.result) == (OperationState.RUNNING, "someone-else", None)


def test_not_claimable_does_nothing(runtime: Runtime) -> None:
    woken: list[tuple[uuid.UUID, float]] = []
    ctx = _context(runtime, lambda c, r: pytest.fail("must not run"), woken)
    assert execute_operation(ctx, uuid.uuid4()) is None


def test_handlers_are_built_fresh_per_call() -> None:
    first, second = build_handlers(), build_handlers()
    assert first is not second
    assert "notify.member_added" in first.kinds()
    assert {"allocation.apply", "allocation.release", "allocation.reconcile"} <= set(
        first.kinds())
    with pytest.raises(ValueError, match="already has a handler"):
        first.register("notify.member_added", lambda ctx, ref: None)


def test_worker_identity_names_the_process() -> None:
    host, pid, thread, tag = worker_identity().split(":")
    assert host and int(pid) > 0 and thread and len(tag) == 8
    assert worker_identity() == worker_identity()  # stable within a thread


def test_operation_ref_is_a_detached_snapshot(runtime: Runtime) -> None:
    with runtime.sessions() as session, session.begin():
        op = enqueue(session)
        ref = OperationRef.of(op)
        op.payload = {"n": 2}
    assert ref.payload == {"n": 1}
    assert replace(ref, attempts=3).attempts == 3
    assert journal.system_actor(ref.id).request_id == str(ref.id)
