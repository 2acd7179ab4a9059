"""Run journalled operations in the test process, the way a worker would."""

from __future__ import annotations

from ocx.runtime import Runtime
from ocx.workers import operations


def run_due_operations(runtime: Runtime, *, rounds: int = 10) -> int:
    """Execute every pending operation that is due (and those they enqueue); how many ran."""
    return operations.run_due_operations(runtime.tasks.worker_context, "test-worker",
                                         rounds=rounds)
