"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ocx import __version__
from ocx.api.errors import install_error_handlers
from ocx.api.middleware import NulGuardMiddleware, RequestIdMiddleware
from ocx.api.scim import router as scim_router
from ocx.api.v1 import build_router
from ocx.api.v1.boot import router as boot_router
from ocx.config import Settings
from ocx.runtime import Runtime, build_runtime
from ocx.workers.runner import start_embedded_workers

DESCRIPTION = """OCX, an Open Cloud eXchange: identity, projects, allocations, bare metal
and billing for a research cloud shared by many institutions and providers.

Authenticate with `Authorization: Bearer <token>`. Errors are always
`{"error": {"type": "...", "message": "..."}}`. Lists take `?cursor=&limit=` and answer
`{"items": [...], "next_cursor": ...}`. Calls to outside systems answer 202 with an
operation; follow it at `/api/v1/operations/{id}`."""


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None,
               with_web: bool = True) -> FastAPI:
    """Build the app for ``settings`` (or a ready ``runtime``); nothing is global."""
    runtime = runtime or build_runtime(settings or Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The single-process mode: worker threads next to the API (settings.workers).
        # The runtime is read from the app, not this closure: the app owns it.
        current: Runtime = app.state.runtime
        consumer = start_embedded_workers(current) if current.settings.workers > 0 else None
        try:
            yield
        finally:
            if consumer is not None:
                await asyncio.to_thread(consumer.stop, graceful=True)

    app = FastAPI(title="OCX", version=__version__, description=DESCRIPTION,
                  openapi_url="/openapi.json", docs_url="/api/docs", redoc_url=None,
                  lifespan=lifespan)
    app.state.runtime = runtime
    install_error_handlers(app)
    app.add_middleware(NulGuardMiddleware)
    app.add_middleware(RequestIdMiddleware)  # added last: outermost, so every answer has an id
    app.include_router(build_router(), prefix="/api/v1")
    app.include_router(scim_router)  # /scim/v2: institutions' provisioning clients
    app.include_router(boot_router)  # /boot: what nodes fetch while they network-boot
    if with_web:
        from ocx.web.routes import mount_web

        mount_web(app, runtime)
    return app
