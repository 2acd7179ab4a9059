"""Real ``ocx worker`` processes: one killed mid-operation, and two sharing the work."""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from ocx.config import Settings
from ocx.domain.audit.models import AuditEvent
from ocx.domain.operations.states import OperationState
from ocx.drivers.notifier.fake import read_calls, read_spool
from ocx.runtime import Runtime, build_runtime
from tests.integration.workers.conftest import Worker, add_members, load, ocx_worker, wait_for

pytestmark = pytest.mark.workers
DONE, RUNNING = OperationState.DONE, OperationState.RUNNING


def _settings(settings: Settings, tmp_path: Path, delay_s: float, lease_s: float) -> Settings:
    return settings.model_copy(update={
        "task_broker_url": f"sqlite:///{tmp_path / 'tasks.db'}", "notifier_driver": "fake",
        "notifier_settings": {"spool_dir": str(tmp_path / "spool"), "delay_s": delay_s},
        "operation_lease_s": lease_s, "sweep_interval_s": 1})


def _audit_actions(runtime: Runtime, target_id: str) -> list[str]:
    with runtime.sessions() as session:
        return list(session.scalars(select(AuditEvent.action).where(
            AuditEvent.target_id == target_id).order_by(AuditEvent.created_at)))


def _wait_started(*workers: Worker) -> None:
    for worker in workers:
        def started(w: Worker = worker) -> bool:
            return "worker started" in w.log.read_text(errors="replace")

        wait_for(f"worker {worker.pid} to start", started, 20, worker.tail)


def test_a_killed_worker_loses_nothing(settings: Settings, engine: Engine,
                                       tmp_path: Path) -> None:
    config = _settings(settings, tmp_path, delay_s=3, lease_s=2)
    runtime = build_runtime(config, engine=engine)  # publishes wake-ups to the same broker
    spool = tmp_path / "spool"
    with ocx_worker(config, tmp_path / "first.log", "--threads", "1") as first:
        (op_id,) = add_members(runtime, 1)
        wait_for("the first worker to run the operation",
                 lambda: load(runtime, op_id).state is RUNNING, 20, first.tail)
        first_owner = load(runtime, op_id).claimed_by
        first.kill()  # SIGKILL mid-operation: no clean-up, the lease just stops moving
    assert read_spool(spool) == []
    with ocx_worker(config, tmp_path / "second.log", "--threads", "1") as second:
        wait_for("the second worker to finish it", lambda: load(runtime, op_id).state is DONE,
                 25, second.tail)
        os.kill(second.pid, signal.SIGTERM)
        assert second.process.wait(timeout=15) == 0, second.tail()
    op = load(runtime, op_id)
    assert op.attempts == 2
    assert op.claimed_by != first_owner
    assert [n.idempotency_key for n in read_spool(spool)] == [op.idempotency_key]
    assert len(read_calls(spool)) == 1  # the killed call never completed
    actions = _audit_actions(runtime, str(op_id))
    assert actions.count("operation.done") == 1
    assert actions.count("operation.start") == 2
    runtime.tasks.close()


def test_two_workers_never_run_one_operation_twice(settings: Settings, engine: Engine,
                                                   tmp_path: Path) -> None:
    config = _settings(settings, tmp_path, delay_s=0.3, lease_s=10)
    runtime = build_runtime(config, engine=engine)
    with (ocx_worker(config, tmp_path / "a.log", "--threads", "2") as a,
          ocx_worker(config, tmp_path / "b.log", "--threads", "2") as b):
        _wait_started(a, b)
        operations = add_members(runtime, 20)
        wait_for("all 20 operations", lambda: all(
            load(runtime, op).state is DONE for op in operations), 30,
            lambda: a.tail() + b.tail())
    calls = read_calls(tmp_path / "spool")
    per_key = Counter(call["key"] for call in calls)
    assert len(per_key) == 20 and set(per_key.values()) == {1}, per_key
    assert all(call["delivered"] for call in calls)
    assert {call["pid"] for call in calls} == {a.pid, b.pid}, "both workers should share"
    for op_id in operations:
        op = load(runtime, op_id)
        (call,) = [c for c in calls if c["key"] == op.idempotency_key]
        assert op.attempts == 1
        assert op.claimed_by is not None and op.claimed_by.split(":")[1] == str(call["pid"])
    runtime.tasks.close()
