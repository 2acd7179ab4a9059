"""The journal's state machine on a SQLite file: claim, lease, finish, sweep, slots."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from ocx.domain.actor import SYSTEM
from ocx.domain.audit.models import AuditEvent
from ocx.domain.operations import journal, service, slots
from ocx.domain.operations.models import Operation, OperationState
from ocx.domain.operations.states import Backoff
from ocx.errors import Conflict
from ocx.persistence.base import utcnow
from ocx.runtime import Runtime
from tests.unit.workers.conftest import enqueue

BACKOFF = Backoff(2.0, 10.0)


def _new(runtime: Runtime) -> Operation:
    with runtime.sessions() as session, session.begin():
        return enqueue(session)


def _claim(runtime: Runtime, op: Operation, worker: str, **kw: object) -> Operation | None:
    with runtime.sessions() as session, session.begin():
        return journal.claim(session, op.id, worker, 30.0, **kw)  # type: ignore[arg-type]


def _actions(runtime: Runtime, op: Operation) -> list[str]:
    with runtime.sessions() as session:
        stmt = (select(AuditEvent.action).where(AuditEvent.target_id == str(op.id))
                .order_by(AuditEvent.created_at))
        return list(session.scalars(stmt))


def test_enqueue_is_idempotent_per_key(runtime: Runtime) -> None:
    with runtime.sessions() as session, session.begin():
        first = enqueue(session, key="same")
        again = enqueue(session, key="same")
        assert again.id == first.id
        assert first.max_attempts == 3  # from the runtime's settings
        assert first.state is OperationState.PENDING and first.attempts == 0
        with pytest.raises(Conflict, match=r"belongs to a test\.echo operation"):
            enqueue(session, key="same", kind="test.other")


def test_enqueue_refuses_secrets_in_the_payload(runtime: Runtime) -> None:
    with runtime.sessions() as session, pytest.raises(ValueError, match="'password'"):
        service.enqueue(session, SYSTEM, kind="k", target=("t", "1"), idempotency_key="x",
                        payload={"server": {"password": "p"}})


def test_only_one_worker_claims(runtime: Runtime) -> None:
    op = _new(runtime)
    claimed = _claim(runtime, op, "w1")
    assert claimed is not None and claimed.state is OperationState.RUNNING
    assert (claimed.attempts, claimed.claimed_by) == (1, "w1")
    assert claimed.lease_expires_at is not None
    assert _claim(runtime, op, "w2") is None


def test_not_due_is_not_claimed(runtime: Runtime) -> None:
    op = _new(runtime)
    assert _claim(runtime, op, "w1", now=utcnow() - timedelta(seconds=30)) is None


def test_complete_records_the_result_once(runtime: Runtime) -> None:
    op = _new(runtime)
    _claim(runtime, op, "w1")
    with runtime.sessions() as session, session.begin():
        assert journal.complete(session, op.id, "w2", {"x": 1}) is None  # not its claim
        done = journal.complete(session, op.id, "w1", {"x": 1})
        assert done is not None and done.state is OperationState.DONE
        assert done.result == {"x": 1} and done.finished_at is not None
        assert journal.complete(session, op.id, "w1", {"x": 2}) is None
    assert _claim(runtime, op, "w1") is None
    assert _actions(runtime, op) == ["operation.enqueue", "operation.start", "operation.done"]


def test_temporary_failure_backs_off_then_exhausts(runtime: Runtime) -> None:
    op = _new(runtime)
    for attempt in (1, 2):
        _claim(runtime, op, "w1", now=utcnow() + timedelta(minutes=attempt))
        with runtime.sessions() as session, session.begin():
            after = journal.record_failure(session, op.id, "w1", "busy", permanent=False,
                                           backoff=BACKOFF)
            assert after is not None and after.state is OperationState.PENDING
            assert after.attempts == attempt and after.last_error == "busy"
            assert after.next_attempt_at > utcnow() + timedelta(seconds=1)
    _claim(runtime, op, "w1", now=utcnow() + timedelta(minutes=3))
    with runtime.sessions() as session, session.begin():
        failed = journal.record_failure(session, op.id, "w1", "busy", permanent=False,
                                        backoff=BACKOFF)
        assert failed is not None and failed.state is OperationState.FAILED
    assert _actions(runtime, op).count("operation.backoff") == 2
    assert _actions(runtime, op)[-1] == "operation.failed"


def test_permanent_failure_fails_at_once(runtime: Runtime) -> None:
    op = _new(runtime)
    _claim(runtime, op, "w1")
    with runtime.sessions() as session, session.begin():
        failed = journal.record_failure(session, op.id, "w1", "refused", permanent=True,
                                        backoff=BACKOFF)
        assert failed is not None and failed.state is OperationState.FAILED
        assert failed.attempts == 1 and failed.last_error == "refused"


def test_expired_lease_is_reclaimed_and_the_old_worker_loses(runtime: Runtime) -> None:
    op = _new(runtime)
    _claim(runtime, op, "w1")
    assert _claim(runtime, op, "w2") is None  # lease still valid
    later = utcnow() + timedelta(seconds=31)
    with runtime.sessions() as session, session.begin():
        assert journal.due_operation_ids(session, grace_s=5, now=later) == [op.id]
    reclaimed = _claim(runtime, op, "w2", now=later)
    assert reclaimed is not None and (reclaimed.attempts, reclaimed.claimed_by) == (2, "w2")
    with runtime.sessions() as session, session.begin():
        assert not journal.renew_lease(session, op.id, "w1", 30.0)
        assert journal.complete(session, op.id, "w1", {}) is None
        assert journal.renew_lease(session, op.id, "w2", 30.0)
        assert journal.complete(session, op.id, "w2", {}) is not None


def test_sweep_fails_operations_abandoned_on_their_last_attempt(runtime: Runtime) -> None:
    op = _new(runtime)
    for minutes in (0, 1, 2):
        _claim(runtime, op, f"w{minutes}", now=utcnow() + timedelta(minutes=minutes))
    later = utcnow() + timedelta(minutes=5)
    with runtime.sessions() as session, session.begin():
        assert journal.due_operation_ids(session, grace_s=5, now=later) == []
        assert journal.fail_abandoned(session, now=later) == 1
        failed = session.get(Operation, op.id)
        assert failed is not None and failed.state is OperationState.FAILED
        assert "lost during the last allowed attempt" in (failed.last_error or "")


def test_pending_operations_are_swept_only_after_the_grace(runtime: Runtime) -> None:
    op = _new(runtime)
    with runtime.sessions() as session:
        assert journal.due_operation_ids(session, grace_s=5) == []
        later = utcnow() + timedelta(seconds=6)
        assert journal.due_operation_ids(session, grace_s=5, now=later) == [op.id]


def test_a_periodic_slot_is_claimed_once(runtime: Runtime) -> None:
    now = utcnow()
    with runtime.sessions() as session, session.begin():
        assert slots.claim_slot(session, "job", 60, "w1", now)
        assert not slots.claim_slot(session, "job", 60, "w2", now)
        assert slots.claim_slot(session, "other-job", 60, "w2", now)
    with runtime.sessions() as session, session.begin():
        assert not slots.claim_slot(session, "job", 60, "w2", now)
        assert slots.claim_slot(session, "job", 60, "w2", now + timedelta(seconds=60))


def test_a_rolled_back_job_frees_its_slot(runtime: Runtime) -> None:
    now = utcnow()
    with runtime.sessions() as session:
        session.begin()
        assert slots.claim_slot(session, "job", 60, "w1", now)
        session.rollback()
    with runtime.sessions() as session, session.begin():
        assert slots.claim_slot(session, "job", 60, "w2", now)
