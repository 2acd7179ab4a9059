"""The task engine: brokers from URLs, wake-ups published after commit, periodic jobs."""

from __future__ import annotations

import signal
from datetime import timedelta
from pathlib import Path

import pytest
from huey import MemoryHuey, RedisHuey, SqliteHuey
from sqlalchemy import select

from ocx.domain.operations.models import Operation, OperationState, PeriodicRun
from ocx.errors import InvalidInput
from ocx.persistence.base import utcnow
from ocx.runtime import Runtime
from ocx.workers.engine import huey_from_url
from ocx.workers.periodic import run_periodic_job
from ocx.workers.runner import build_consumer
from tests.unit.workers.conftest import enqueue


def test_brokers_from_urls(tmp_path: Path) -> None:
    assert isinstance(huey_from_url("memory://"), MemoryHuey)
    sqlite = huey_from_url(f"sqlite:///{tmp_path / 'sub' / 'tasks.db'}")
    assert isinstance(sqlite, SqliteHuey)
    assert (tmp_path / "sub" / "tasks.db").exists()
    assert isinstance(huey_from_url("redis://127.0.0.1:6399/3"), RedisHuey)  # connects lazily
    with pytest.raises(InvalidInput, match="unsupported task broker 'amqp'"):
        huey_from_url("amqp://guest@localhost//")


def test_wakeups_are_published_only_after_commit(runtime: Runtime) -> None:
    queue = runtime.tasks.huey
    with runtime.sessions() as session, session.begin():
        op = enqueue(session)
        with session.begin_nested():
            enqueue(session)
        assert queue.pending_count() == 0  # a savepoint is not a commit
    assert queue.pending_count() == 2
    assert runtime.tasks.run_queued() == 2
    with runtime.sessions() as session:
        done = session.get(Operation, op.id)
        # No handler for test kinds: the point is that the message reached a worker.
        assert done is not None and done.state is OperationState.FAILED


def test_rolled_back_transactions_wake_nobody(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        session.begin()
        enqueue(session)
        session.rollback()
        session.begin()
        session.commit()
    assert runtime.tasks.huey.pending_count() == 0


def test_a_broker_failure_does_not_fail_the_commit(runtime: Runtime,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(ids: object) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(runtime.tasks, "publish", broken)
    with runtime.sessions() as session, session.begin():
        op = enqueue(session)
    with runtime.sessions() as session:
        assert session.get(Operation, op.id) is not None  # the sweep will wake a worker


def test_periodic_jobs_run_once_per_slot(runtime: Runtime) -> None:
    huey = runtime.tasks.huey
    names = sorted(type(task).__name__ for task in huey.read_periodic(None))
    jobs = sorted(job.name for job in runtime.tasks.jobs)
    assert {"memberships_expire", "operations_sweep"} <= set(jobs)
    assert names == [f"periodic_{job}" for job in jobs]
    for _ in range(2):
        for task in huey.read_periodic(None):
            huey.execute(task)
    with runtime.sessions() as session:
        runs = {row.name: row for row in session.scalars(select(PeriodicRun))}
    assert sorted(runs) == jobs
    assert all(row.ran_by for row in runs.values())


def test_the_sweep_wakes_workers_for_overdue_operations(runtime: Runtime) -> None:
    with runtime.sessions() as session, session.begin():
        op = enqueue(session)
        op.next_attempt_at = utcnow() - timedelta(minutes=1)
    runtime.tasks.huey.flush()  # the wake-up is lost
    sweep = next(job for job in runtime.tasks.jobs if job.name == "operations_sweep")
    assert run_periodic_job(runtime.sessions, sweep, "w1")
    assert runtime.tasks.huey.pending_count() == 1


def test_embedded_consumer_leaves_signals_alone(runtime: Runtime) -> None:
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    consumer = build_consumer(runtime, threads=2, periodic=True, embedded=True)
    consumer._set_signal_handlers()
    assert {sig: signal.getsignal(sig) for sig in before} == before
    assert consumer.scheduler is not None
    assert len(consumer.worker_threads) == 2
    scheduler = consumer._create_scheduler()
    assert scheduler.periodic_task_seconds == runtime.settings.sweep_interval_s


def test_bad_driver_settings_stop_a_worker_before_it_starts(runtime: Runtime) -> None:
    runtime.settings = runtime.settings.model_copy(
        update={"notifier_driver": "smtp", "notifier_settings": {"port": 25}})
    with pytest.raises(InvalidInput, match="invalid settings for notifier driver 'smtp'"):
        build_consumer(runtime, threads=1, periodic=False, embedded=False)
