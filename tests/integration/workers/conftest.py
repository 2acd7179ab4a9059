"""Helpers for worker tests: members whose notifications are operations, bounded waits,
and real ``ocx worker`` processes that are always killed by PID."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ocx.config import Settings
from ocx.domain.actor import SYSTEM
from ocx.domain.identity import schemas, service
from ocx.domain.operations.models import Operation
from ocx.runtime import Runtime

SRC = Path(__file__).resolve().parents[3] / "src"  # run this checkout's code


def add_members(runtime: Runtime, count: int, project: str = "team") -> list[uuid.UUID]:
    """Create a project with ``count`` new members; the ids of their notification operations."""
    with runtime.sessions() as session, session.begin():
        service.create_org(session, SYSTEM, schemas.OrganizationCreate(name=f"{project}-org"))
        service.create_project(session, SYSTEM, schemas.ProjectCreate(
            name=project, organization=f"{project}-org"))
        for n in range(count):
            email = f"member{n}@{project}.example.org"
            service.create_user(session, SYSTEM, schemas.UserCreate(email=email))
            service.add_member(session, SYSTEM, f"{project}-org:{project}",
                               schemas.MembershipCreate(email=email))
        return list(session.scalars(select(Operation.id).order_by(Operation.created_at)))


def load(runtime: Runtime, operation_id: uuid.UUID) -> Operation:
    """The operation as it is in the database now."""
    with runtime.sessions() as session:
        op = session.get(Operation, operation_id)
        assert op is not None
        return op


def wait_for(what: str, check: Callable[[], bool], timeout_s: float,
             explain: Callable[[], str] = lambda: "") -> None:
    """Poll ``check`` until it holds; fail with ``what`` (and ``explain()``) after the timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}. {explain()}")


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of an ``ocx worker`` process for ``settings`` plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCX_")}
    env.update({"OCX_ENVIRONMENT": "test", "OCX_DATABASE_URL": settings.database_url,
                "OCX_SECRET_KEY": settings.secret_key.get_secret_value(),
                "OCX_TASK_BROKER_URL": settings.task_broker_url,
                "OCX_NOTIFIER_DRIVER": settings.notifier_driver,
                "OCX_NOTIFIER_SETTINGS": json.dumps(settings.notifier_settings),
                "OCX_OPERATION_LEASE_S": str(settings.operation_lease_s),
                "OCX_SWEEP_INTERVAL_S": str(settings.sweep_interval_s),
                "OCX_LOG_LEVEL": "INFO", "PYTHONPATH": str(SRC)})
    env.update(extra)
    return env


class Worker:
    """A running ``ocx worker`` process and its log file."""

    def __init__(self, process: subprocess.Popen[bytes], log: Path) -> None:
        self.process, self.log = process, log

    @property
    def pid(self) -> int:
        """The process id."""
        return self.process.pid

    def tail(self, lines: int = 25) -> str:
        """The end of its log, for failure messages."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"\n--- worker {self.pid} log ---\n" + "\n".join(text.splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL, by PID, and reap it."""
        if self.process.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@contextmanager
def ocx_worker(settings: Settings, log: Path, *args: str,
               **extra_env: str) -> Iterator[Worker]:
    """Start ``python -m ocx.cli.main worker``; always killed on the way out."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ocx.cli.main", "worker", *args],
            env=worker_env(settings, **extra_env), cwd=log.parent, stdout=out,
            stderr=subprocess.STDOUT)
    worker = Worker(process, log)
    try:
        yield worker
    finally:
        worker.kill()


def state_of(runtime: Runtime, operation_id: uuid.UUID) -> Callable[[], Any]:
    """A function returning the operation's current state."""
    return lambda: load(runtime, operation_id).state
