"""The real app under uvicorn on a free loopback port, and Debian's Chromium driven by Playwright.

Playwright brings only its driver: the browser is Debian's ``/usr/bin/chromium``
(``make test`` installs it). Never run ``playwright install``: it downloads a browser.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import BrowserContext, sync_playwright

from ocx.api.app import create_app
from ocx.config import Environment, Settings
from ocx.persistence.db import make_engine
from ocx.persistence.migrate import upgrade
from ocx.runtime import build_runtime
from tests.support.world import World, build_world

CHROMIUM = Path("/usr/bin/chromium")
# Without these Chromium keeps calling home, and this machine's closed network refuses it.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@dataclass
class LiveServer:
    """An OCX server on loopback and the world it was seeded with."""

    url: str
    world: World


def _serve_in_thread(server: uvicorn.Server, sock: socket.socket) -> threading.Thread:
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    return thread


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """OCX on SQLite in a temporary directory, served by uvicorn on a free port."""
    settings = Settings(environment=Environment.TEST, database_url=f"sqlite:///{tmp_path}/ocx.db",
                        secret_key="e2e-secret-key-0123456789abcdef", workers=0,
                        task_broker_url="memory://", cookie_secure=False)
    runtime = build_runtime(settings, make_engine(settings.database_url))
    upgrade(runtime.engine)
    world = build_world(runtime)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(runtime=runtime), log_config=None,
                                           access_log=False, lifespan="on"))
    thread = _serve_in_thread(server, sock)
    try:
        yield LiveServer(url=f"http://127.0.0.1:{sock.getsockname()[1]}", world=world)
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()
        runtime.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[BrowserContext]:
    """A headless Debian Chromium with a new, empty profile."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium "
                    "(or run: apt-get install -y chromium)")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path / "chromium-profile", executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1200, "height": 800})
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go (test-artifacts/, ignored by git)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
