"""Worker processes (``ocx worker``) and the worker threads embedded in ``ocx serve``.

Both run Huey's consumer with thread workers. Its scheduler fires the periodic jobs
every sweep interval (Huey's own granularity is a minute). Embedded, the consumer
installs no signal handlers, so uvicorn keeps SIGINT/SIGTERM and stops it on shutdown.
"""

from __future__ import annotations

import logging
from typing import Any

from huey.api import Huey
from huey.consumer import Consumer

from ocx.config import Settings
from ocx.errors import OcxError
from ocx.persistence.migrate import current_revision
from ocx.runtime import Runtime, build_runtime

log = logging.getLogger("ocx.workers")
# Storages that poll (SQLite, memory) look at the queue at least this often when idle.
MAX_POLL_DELAY_S = 1.0


class OcxConsumer(Consumer):  # type: ignore[misc]  # huey is untyped
    """Huey's consumer with OCX's periodic tick and, when embedded, no signal handlers."""

    def __init__(self, huey: Huey, *, periodic_tick_s: float, handle_signals: bool,
                 **options: Any) -> None:
        self._periodic_tick_s = periodic_tick_s
        self._handle_signals = handle_signals
        super().__init__(huey, **options)

    def start(self) -> None:
        """Start the scheduler and worker threads (``run`` calls this too)."""
        super().start()
        log.info("worker started: %d thread(s), periodic jobs %s, %s", self.workers,
                 "on" if self.periodic else "off", type(self.huey.storage).__name__)

    def _create_scheduler(self) -> Any:
        scheduler = super()._create_scheduler()
        scheduler.periodic_task_seconds = self._periodic_tick_s
        return scheduler

    def _set_signal_handlers(self) -> None:
        if self._handle_signals:
            super()._set_signal_handlers()


def build_consumer(runtime: Runtime, *, threads: int, periodic: bool,
                   embedded: bool) -> OcxConsumer:
    """A consumer running ``threads`` operations at once on the runtime's task engine.

    Raises:
        InvalidInput: the configured drivers or their settings are invalid.
    """
    settings = runtime.settings
    _ = runtime.tasks.worker_context  # fail now on bad driver settings, not on every task
    if settings.log_level.upper() != "DEBUG":
        # Huey logs every task and scheduler tick at INFO; OCX logs each operation's
        # state changes itself, under the operation's id.
        logging.getLogger("huey").setLevel(logging.WARNING)
    return OcxConsumer(
        runtime.tasks.huey, workers=threads, periodic=periodic, worker_type="thread",
        periodic_tick_s=settings.sweep_interval_s, handle_signals=not embedded,
        max_delay=MAX_POLL_DELAY_S, graceful_signal="TERM",
        shutdown_timeout=settings.worker_shutdown_timeout_s)


def start_embedded_workers(runtime: Runtime) -> OcxConsumer:
    """Start ``settings.workers`` worker threads inside this process (``ocx serve``)."""
    consumer = build_consumer(runtime, threads=runtime.settings.workers, periodic=True,
                              embedded=True)
    consumer.start()
    return consumer


def run_worker(settings: Settings, *, threads: int = 2, periodic: bool = True) -> None:
    """Run operations until SIGTERM (finish running ones first) or SIGINT (stop now)."""
    runtime = build_runtime(settings)
    try:
        if current_revision(runtime.engine) is None:
            raise SystemExit("error: the database has no schema; run `ocx db upgrade` first")
        try:
            consumer = build_consumer(runtime, threads=threads, periodic=periodic,
                                      embedded=False)
        except OcxError as exc:
            raise SystemExit(f"error: {exc.message}") from exc
        consumer.run()
    finally:
        runtime.close()
