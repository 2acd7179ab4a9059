"""Worker threads embedded in the app (``ocx serve``): they start and stop with it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from ocx.api.app import create_app
from ocx.config import Settings
from ocx.domain.audit.models import AuditEvent
from ocx.domain.operations.states import OperationState
from ocx.drivers.notifier.fake import FakeNotifier
from ocx.runtime import Runtime, build_runtime
from tests.integration.workers.conftest import add_members, load, wait_for

DONE, FAILED = OperationState.DONE, OperationState.FAILED


def _embedded(settings: Settings, engine: Engine, tmp_path: Path, **update: Any) -> Runtime:
    return build_runtime(settings.model_copy(update={
        "workers": 2, "task_broker_url": f"sqlite:///{tmp_path / 'tasks.db'}",
        "sweep_interval_s": 1, **update}), engine=engine)


def _consumer_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(("Worker-", "Scheduler"))]


def test_embedded_workers_deliver_and_stop_with_the_app(settings: Settings, engine: Engine,
                                                       tmp_path: Path) -> None:
    runtime = _embedded(settings, engine, tmp_path)
    with TestClient(create_app(runtime=runtime)):
        assert sorted(_consumer_threads()) == ["Scheduler", "Worker-1", "Worker-2"]
        operations = add_members(runtime, 3)
        wait_for("three notifications", lambda: all(
            load(runtime, op).state is DONE for op in operations), timeout_s=15)
    assert _consumer_threads() == []
    notifier = runtime.notifier
    assert isinstance(notifier, FakeNotifier)
    assert len(notifier.delivered) == 3
    runtime.tasks.close()


def test_temporary_failures_back_off_then_fail(settings: Settings, engine: Engine,
                                               tmp_path: Path) -> None:
    runtime = _embedded(settings, engine, tmp_path, operation_max_attempts=3,
                        operation_backoff_s=0.2, operation_backoff_max_s=0.5,
                        notifier_settings={"fail": "temporary"})
    with TestClient(create_app(runtime=runtime)):
        (op_id,) = add_members(runtime, 1)
        wait_for("the operation to fail", lambda: load(runtime, op_id).state is FAILED,
                 timeout_s=15, explain=lambda: repr(load(runtime, op_id).__dict__))
    op = load(runtime, op_id)
    assert op.attempts == 3
    assert op.last_error == "the fake notifier is set to fail temporarily"
    with runtime.sessions() as session:
        actions = list(session.scalars(select(AuditEvent.action).where(
            AuditEvent.target_id == str(op_id)).order_by(AuditEvent.created_at)))
    assert actions == ["operation.enqueue", "operation.start", "operation.backoff",
                       "operation.start", "operation.backoff", "operation.start",
                       "operation.failed"]
    runtime.tasks.close()
