"""The real app under uvicorn on a free loopback port, and Debian's Chromium driven by Playwright.

Playwright brings only its driver: the browser is Debian's ``/usr/bin/chromium``
(``make test`` installs it). Never run ``playwright install``: it downloads a browser.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import BrowserContext, Page, Playwright, sync_playwright

from ocx.api.app import create_app
from ocx.config import Environment, Settings
from ocx.demo import seed
from ocx.persistence.db import make_engine
from ocx.persistence.migrate import upgrade
from ocx.runtime import Runtime, build_runtime
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
    runtime: Runtime  # the server's own: tests seed data through domain services with it


def _serve_in_thread(server: uvicorn.Server, sock: socket.socket) -> threading.Thread:
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    return thread


def _migrated_runtime(database: Path) -> Runtime:
    """A test runtime on a new, migrated SQLite database at ``database``."""
    settings = Settings(environment=Environment.TEST, database_url=f"sqlite:///{database}",
                        secret_key="e2e-secret-key-0123456789abcdef", workers=0,
                        task_broker_url="memory://", cookie_secure=False)
    runtime = build_runtime(settings, make_engine(settings.database_url))
    upgrade(runtime.engine)
    return runtime


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """OCX on SQLite in a temporary directory, served by uvicorn on a free port."""
    runtime = _migrated_runtime(tmp_path / "ocx.db")
    world = build_world(runtime)
    with _served(runtime) as url:
        yield LiveServer(url=url, world=world, runtime=runtime)


@dataclass
class DemoServer:
    """An OCX server on loopback seeded with the demo of `make run` (``ocx.demo.seed``)."""

    url: str
    runtime: Runtime
    accounts: dict[str, str]  # role -> email, as `ocx demo seed` prints them
    password: str


@contextmanager
def _served(runtime: Runtime) -> Iterator[str]:
    """The app of ``runtime`` served by uvicorn on a free loopback port; its URL. The
    server stops and the runtime closes afterwards."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(runtime=runtime), log_config=None,
                                           access_log=False, lifespan="on"))
    thread = _serve_in_thread(server, sock)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()
        runtime.close()


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[DemoServer]:
    """OCX on SQLite with the demo seeded by the same function `make run` calls."""
    runtime = _migrated_runtime(tmp_path / "demo.db")
    result = seed(runtime)
    with _served(runtime) as url:
        yield DemoServer(url=url, runtime=runtime, accounts=result.accounts,
                         password=result.password)


@pytest.fixture
def playwright_driver() -> Iterator[Playwright]:
    """Playwright's driver, shared by the browsers of one test (it cannot be nested)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium "
                    "(or run: apt-get install -y chromium)")
    with sync_playwright() as playwright:
        yield playwright


def _chromium(playwright: Playwright, profile: Path) -> Iterator[BrowserContext]:
    context = playwright.chromium.launch_persistent_context(
        profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS,
        viewport={"width": 1200, "height": 800})
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def browser(playwright_driver: Playwright, tmp_path: Path) -> Iterator[BrowserContext]:
    """A headless Debian Chromium with a new, empty profile."""
    yield from _chromium(playwright_driver, tmp_path / "chromium-profile")


@pytest.fixture
def other_browser(playwright_driver: Playwright, tmp_path: Path) -> Iterator[BrowserContext]:
    """A second Chromium with its own profile: another person, signed in at the same time."""
    yield from _chromium(playwright_driver, tmp_path / "other-chromium-profile")


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go (test-artifacts/, ignored by git)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def open_signed_in(browser: BrowserContext, url: str, email: str,
                   password: str) -> tuple[Page, list[str]]:
    """A new page signed in through the sign-in form, and the list that collects the
    page's console errors and uncaught exceptions from then on (a test asserts it empty)."""
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(url + "/")
    return page, problems
