"""A notifier for tests and the demo: keeps notifications in memory or in a spool directory.

With ``spool_dir`` each notification becomes one file named after its idempotency key,
created atomically, so delivering the same key twice is a no-op: delivery is exactly
once even when a worker dies and another retries. Every call is also appended to
``calls.jsonl`` (key, pid, start and end time, whether it delivered), which lets tests
prove that no operation ran in two workers at once.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from ocx.drivers.base import Driver
from ocx.drivers.notifier.base import Notification, Notifier
from ocx.errors import DriverError, PermanentDriverError

CALLS_FILE = "calls.jsonl"


class FakeNotifier(Notifier):
    """Records notifications instead of sending them."""

    class Settings(Driver.Settings):
        spool_dir: Path | None = Field(
            default=None, description="write one file per notification here (else memory)")
        delay_s: float = Field(default=0.0, ge=0, le=60,
                               description="pretend the outside system is this slow")
        fail: Literal["never", "temporary", "permanent"] = Field(
            default="never", description="make every send fail, to demo retries and failures")

    settings: Settings

    def __init__(self, settings: FakeNotifier.Settings) -> None:
        super().__init__(settings)
        self.delivered: dict[str, Notification] = {}
        self.calls = 0
        self._lock = threading.Lock()

    def send(self, notification: Notification) -> None:
        """Record ``notification`` once per idempotency key (see :meth:`Notifier.send`)."""
        started = time.time()
        if self.settings.delay_s:
            time.sleep(self.settings.delay_s)
        if self.settings.fail == "temporary":
            raise DriverError("the fake notifier is set to fail temporarily")
        if self.settings.fail == "permanent":
            raise PermanentDriverError("the fake notifier is set to fail permanently")
        if self.settings.spool_dir is None:
            self._deliver_in_memory(notification)
            return
        delivered = _deliver_to_spool(self.settings.spool_dir, notification)
        _append_call(self.settings.spool_dir, notification, started, delivered)

    def _deliver_in_memory(self, notification: Notification) -> None:
        with self._lock:
            self.calls += 1
            self.delivered.setdefault(notification.idempotency_key, notification)


def _deliver_to_spool(spool: Path, notification: Notification) -> bool:
    spool.mkdir(parents=True, exist_ok=True)
    final = spool / f"{notification.key_digest}.json"
    temporary = spool / f".{notification.key_digest}.{os.getpid()}.{threading.get_ident()}.tmp"
    temporary.write_text(json.dumps(asdict(notification)))
    try:
        # link() fails if the name exists: an atomic "create once" across processes.
        os.link(temporary, final)
        return True
    except FileExistsError:
        return False
    finally:
        temporary.unlink()


def _append_call(spool: Path, notification: Notification, started: float,
                 delivered: bool) -> None:
    line = json.dumps({"key": notification.idempotency_key, "pid": os.getpid(),
                       "started": started, "ended": time.time(), "delivered": delivered})
    # One write() on an O_APPEND descriptor: lines from several processes never interleave.
    fd = os.open(spool / CALLS_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def read_spool(spool: Path) -> list[Notification]:
    """The notifications delivered to ``spool``, in no particular order."""
    return [Notification(**json.loads(path.read_text())) for path in spool.glob("*.json")]


def read_calls(spool: Path) -> list[dict[str, Any]]:
    """Every completed ``send`` call recorded in ``spool``, oldest first."""
    path = spool / CALLS_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]
