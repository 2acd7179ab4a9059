"""Run journalled operations in the test process, the way a worker would."""

from __future__ import annotations

from sqlalchemy import select

from ocx.domain.operations.models import Operation
from ocx.domain.operations.states import OperationState
from ocx.persistence.base import utcnow
from ocx.runtime import Runtime
from ocx.workers.operations import execute_operation


def run_due_operations(runtime: Runtime, *, rounds: int = 10) -> int:
    """Execute every pending operation that is due (and those they enqueue); how many ran."""
    ctx = runtime.tasks.worker_context
    ran = 0
    for _ in range(rounds):
        with runtime.sessions() as session:
            due = list(session.scalars(select(Operation.id).where(
                Operation.state == OperationState.PENDING,
                Operation.next_attempt_at <= utcnow()).order_by(Operation.created_at)))
        if not due:
            return ran
        for operation_id in due:
            if execute_operation(ctx, operation_id, "test-worker") is not None:
                ran += 1
    return ran
