"""``ocx serve`` on a free loopback port, and Debian's Chromium driven by Playwright.

Each live server is a real ``ocx serve`` process (the venv's ``ocx`` console script),
configured through ``OCX_*`` environment variables the way ``make run`` configures it, on
a SQLite file in the test's temporary directory, with its embedded worker threads on:
operations run in the server, as in ``make run``. The test process may open its own
:class:`~ocx.runtime.Runtime` on the same settings to seed data through domain services:
SQLite in WAL mode serves both processes, and the task broker is a SQLite file too
(``make run``'s default), so operations the test process journals wake the server's
workers at once (the workers' periodic sweep would find them anyway).

Playwright brings only its driver: the browser is Debian's ``/usr/bin/chromium``
(``make test`` installs it). Never run ``playwright install``: it downloads a browser.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, Playwright, sync_playwright

from ocx.config import Settings
from ocx.drivers.notifier.base import Notification
from ocx.drivers.notifier.fake import read_spool
from ocx.persistence.migrate import upgrade
from ocx.runtime import Runtime, build_runtime
from tests.support.world import World, build_world

CHROMIUM = Path("/usr/bin/chromium")
# Without these Chromium keeps calling home, and this machine's closed network refuses it.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# The console script installed next to this interpreter (``pip install -e .``).
OCX = Path(sys.executable).with_name("ocx")
ADMIN_EMAIL = "admin@example.org"  # the Makefile's ADMIN_EMAIL
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
FAILED: pytest.StashKey[bool] = pytest.StashKey()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, pytest.TestReport, None]:
    """Remember whether a test failed, for the server fixtures' teardown (they keep the log)."""
    outcome = yield
    if outcome.get_result().failed:
        item.stash[FAILED] = True


def server_env(directory: Path) -> dict[str, str]:
    """The environment of an OCX server whose files live in ``directory``: this process's
    environment without its ``OCX_*`` variables, plus the settings of the e2e server."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("OCX_")}
    env.update({
        "OCX_ENVIRONMENT": "test",
        "OCX_SECRET_KEY": "e2e-secret-key-0123456789abcdef",
        "OCX_COOKIE_SECURE": "false",  # plain http on loopback, as `make run`
        "OCX_DATABASE_URL": f"sqlite:///{directory / 'ocx.db'}",
        "OCX_TASK_BROKER_URL": f"sqlite:///{directory / 'tasks.db'}",
        "OCX_WORKERS": "2",
        "OCX_WORKER_SHUTDOWN_TIMEOUT_S": "5",
        # Mail lands in files the test reads (another process cannot see the server's memory).
        "OCX_NOTIFIER_DRIVER": "fake",
        "OCX_NOTIFIER_SETTINGS": json.dumps({"spool_dir": str(directory / "mail")}),
    })
    return env


def settings_of(env: dict[str, str]) -> Settings:
    """The settings a process started with ``env`` reads."""
    with mock.patch.dict(os.environ, env, clear=True):
        return Settings()


def ocx_command(*args: str) -> list[str]:
    """The command line of ``ocx ARGS``; fails the test if the console script is missing."""
    if not OCX.exists():
        pytest.fail(f"{OCX} is missing: install OCX in this environment (make venv)",
                    pytrace=False)
    return [str(OCX), *args]


def run_ocx(args: list[str], env: dict[str, str], directory: Path) -> str:
    """Run ``ocx ARGS`` to completion in ``directory``; its standard output. Fails the test
    with the command's output if it fails."""
    done = subprocess.run(ocx_command(*args), env=env, cwd=directory, capture_output=True,
                          text=True, timeout=120, check=False)
    if done.returncode != 0:
        pytest.fail(f"`ocx {' '.join(args)}` exited with {done.returncode}:\n"
                    f"{done.stdout}{done.stderr}", pytrace=False)
    return done.stdout


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """One ``ocx serve`` process on a free loopback port, its output in ``server.log``."""

    def __init__(self, env: dict[str, str], directory: Path) -> None:
        self.env, self.directory = env, directory
        self.log = directory / "server.log"
        self.url = ""
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server; it gets ready while the caller goes on (see :meth:`wait_ready`)."""
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                ocx_command("serve", "--host", "127.0.0.1", "--port", str(port)),
                env=self.env, cwd=self.directory, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)

    def wait_ready(self) -> str:
        """The server's URL once its health endpoint answers. Fails the test with the
        server's log if it exits or takes too long."""
        for _attempt in range(3):
            problem = self._ready_or_why_not()
            if problem is None:
                return self.url
            if "address already in use" not in self.log.read_text():
                break
            self.start()  # another process took the port in between: try another one
        self.stop()
        pytest.fail(f"`ocx serve` {problem}; its log:\n{self.log.read_text()}", pytrace=False)

    def _ready_or_why_not(self) -> str | None:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return f"exited with {self.process.returncode}"
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=2).status_code == 200:
                    return None
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        return f"did not answer {self.url}/api/v1/health within {START_TIMEOUT_S:.0f} s"

    def stop(self) -> bool:
        """SIGTERM (uvicorn stops; its workers finish what they run), SIGKILL after a while;
        whether the server was running and stopped cleanly on SIGTERM."""
        process = self.process
        if process is None:
            return True
        if process.poll() is not None:
            return False  # it exited on its own
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return False
        # uvicorn re-raises the signal it caught once it has shut down
        return process.returncode in (0, -signal.SIGTERM)


@contextmanager
def serving(env: dict[str, str], directory: Path,
            request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    """A started ``ocx serve`` (call ``wait_ready``), never left running afterwards; its
    log is kept as test-artifacts/<test>-server.log if the test or the server failed."""
    server = ServerProcess(env, directory)
    server.start()
    try:
        yield server
    finally:
        clean = server.stop()
        if not clean or request.node.stash.get(FAILED, False):
            ARTIFACTS.mkdir(exist_ok=True)
            shutil.copy(server.log, ARTIFACTS / f"{request.node.name}-server.log")


@dataclass
class LiveServer:
    """An ``ocx serve`` process on loopback and the world it was seeded with."""

    url: str
    world: World
    runtime: Runtime  # on the server's database: tests seed data through domain services
    directory: Path

    def mail(self, recipient: str, subject: str, timeout_s: float = 20.0) -> Notification:
        """The one notification to ``recipient`` whose subject starts with ``subject``,
        once the server's workers have sent it."""
        deadline = time.monotonic() + timeout_s
        while True:
            found = [n for n in read_spool(self.directory / "mail")
                     if n.recipient == recipient and n.subject.startswith(subject)]
            if found or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert len(found) == 1, f"{len(found)} notification(s) {subject!r} to {recipient}"
        return found[0]


@pytest.fixture
def live_server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """``ocx serve`` on a new SQLite database holding the tests' world."""
    env = server_env(tmp_path)
    runtime = build_runtime(settings_of(env))
    try:
        upgrade(runtime.engine)  # what `ocx db upgrade` runs, without starting another Python
        with serving(env, tmp_path, request) as server:
            world = build_world(runtime)  # while the server starts
            yield LiveServer(url=server.wait_ready(), world=world, runtime=runtime,
                             directory=tmp_path)
    finally:
        runtime.close()


@dataclass
class DemoServer:
    """An ``ocx serve`` process on loopback with the demo of `make run` (``ocx demo seed``)."""

    url: str
    runtime: Runtime  # on the server's database, to read what the pages should show
    accounts: dict[str, str]  # role -> email, as `ocx demo seed` prints them
    password: str


@pytest.fixture
def demo_server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[DemoServer]:
    """What `make run` runs, through the CLI: db upgrade, admin bootstrap, demo seed, serve."""
    env = server_env(tmp_path)
    run_ocx(["db", "upgrade"], env, tmp_path)
    run_ocx(["admin", "bootstrap", "--email", ADMIN_EMAIL, "--if-missing", "-o", "json"],
            env, tmp_path)
    demo = json.loads(run_ocx(["demo", "seed", "-o", "json"], env, tmp_path))
    assert demo["created"], demo
    runtime = build_runtime(settings_of(env))
    try:
        with serving(env, tmp_path, request) as server:
            yield DemoServer(url=server.wait_ready(), runtime=runtime, accounts=demo["accounts"],
                             password=demo["password"])
    finally:
        runtime.close()


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
