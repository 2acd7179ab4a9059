"""The task engine (Huey): the queue built from settings, with OCX's tasks registered on it.

A message carries nothing but an operation id: it wakes a worker, which then reads the
operation from the database. Messages may be lost (a broker restart, a publish after
commit that failed) or duplicated (the sweep re-publishes); neither matters, because
claiming is a compare-and-set on the database row and the sweep republishes whatever
is overdue.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from huey import MemoryHuey, RedisHuey, SqliteHuey
from huey.api import Huey

from ocx.domain.operations.handlers import HandlerContext, build_handlers
from ocx.domain.operations.states import Backoff
from ocx.errors import InvalidInput
from ocx.workers.operations import WorkerContext, execute_operation, worker_identity
from ocx.workers.periodic import PeriodicJob, periodic_jobs, run_periodic_job

if TYPE_CHECKING:
    from ocx.runtime import Runtime

QUEUE_NAME = "ocx"


def huey_from_url(url: str) -> Huey:
    """A Huey instance for ``sqlite:///path`` (embedded), ``redis://...`` or ``memory://``.

    Raises:
        InvalidInput: any other scheme.
    """
    if url.startswith("memory:"):
        return MemoryHuey(QUEUE_NAME, results=False)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(QUEUE_NAME, filename=str(path), results=False)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(QUEUE_NAME, url=url, results=False)
    scheme = url.partition(":")[0] or url
    raise InvalidInput(f"unsupported task broker {scheme!r}: use sqlite:///PATH, "
                       "redis://HOST:PORT/DB or memory://")


def _every_tick(timestamp: datetime) -> bool:
    # The scheduler fires periodic tasks once per tick (the sweep interval); each job
    # then decides by its database slot whether its own period has come round.
    return True


class TaskEngine:
    """OCX's tasks on one Huey instance: operation wake-ups and the periodic jobs."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self.huey = huey_from_url(runtime.settings.task_broker_url)
        self._run_operation = self.huey.task(name="run_operation")(self._execute)
        self.jobs = periodic_jobs(runtime.settings)
        for job in self.jobs:
            self.huey.periodic_task(_every_tick, name=f"periodic_{job.name}")(
                self._periodic_runner(job))

    @cached_property
    def worker_context(self) -> WorkerContext:
        """What worker threads use; built on first use so API-only processes need no drivers.

        Raises:
            InvalidInput: the configured drivers or their settings are invalid.
        """
        runtime, settings = self._runtime, self._runtime.settings
        return WorkerContext(
            sessions=runtime.sessions, handlers=build_handlers(),
            handler_context=HandlerContext(sessions=runtime.sessions, notifier=runtime.notifier,
                                           drivers=runtime.drivers, sealer=runtime.sealer,
                                           settings=settings),
            lease_s=settings.operation_lease_s,
            backoff=Backoff(settings.operation_backoff_s, settings.operation_backoff_max_s),
            wake_later=self.publish_later)

    def publish(self, operation_ids: Iterable[uuid.UUID]) -> None:
        """Wake a worker for each operation now."""
        for operation_id in operation_ids:
            self._run_operation(str(operation_id))

    def publish_later(self, operation_id: uuid.UUID, delay_s: float) -> None:
        """Wake a worker for the operation after ``delay_s`` seconds (a retry's backoff)."""
        self._run_operation.schedule(args=(str(operation_id),), delay=delay_s)

    def run_queued(self, limit: int = 1000) -> int:
        """Execute queued messages in this thread until the queue is empty (tests, tools)."""
        executed = 0
        while executed < limit and (task := self.huey.dequeue()) is not None:
            self.huey.execute(task)
            executed += 1
        return executed

    def close(self) -> None:
        """Close the broker connection."""
        self.huey.storage.close()

    def _execute(self, operation_id: str) -> None:
        execute_operation(self.worker_context, uuid.UUID(operation_id))

    def _periodic_runner(self, job: PeriodicJob) -> Callable[[], Any]:
        def run() -> bool:
            """Run the periodic job if this worker wins its slot."""
            return run_periodic_job(self._runtime.sessions, job, worker_identity())

        run.__name__ = f"periodic_{job.name}"
        return run
