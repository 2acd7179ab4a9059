"""The real app served by uvicorn on 127.0.0.1, and the ``ocx`` CLI run against it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from typer.testing import CliRunner, Result

from ocx.cli.main import app as cli
from tests.support.world import World

Run = Callable[..., Result]


@pytest.fixture
def server_url(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on a free port, in a background thread; stopped afterwards."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", ws="none",
                            timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """Where the CLI saves its login in these tests (never the developer's own)."""
    return tmp_path / "config.json"


@pytest.fixture
def ocx(server_url: str, world: World, config_file: Path) -> Run:
    """Run ``ocx ARGS`` as the operator (pass ``token=None`` to use the saved login)."""

    def run(*args: str, token: str | None = world["operator"].token,
            input: str | None = None) -> Result:
        env = {"OCX_URL": server_url, "OCX_TOKEN": token, "OCX_CONFIG": str(config_file)}
        return CliRunner().invoke(cli, list(args), env=env, input=input)

    return run
