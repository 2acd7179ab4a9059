"""Worker processes and the worker threads embedded in ``ocx serve``."""

from __future__ import annotations

from ocx.config import Settings


def run_worker(settings: Settings, *, threads: int = 2, periodic: bool = True) -> None:
    """Run operations until SIGTERM or SIGINT."""
    raise NotImplementedError("the operations journal is being built")
