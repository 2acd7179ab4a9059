"""Web pages. A placeholder until the web skeleton lands."""

from __future__ import annotations

from fastapi import FastAPI

from ocx.runtime import Runtime


def mount_web(app: FastAPI, runtime: Runtime) -> None:
    """Add the web UI's routes and static files to ``app``."""
