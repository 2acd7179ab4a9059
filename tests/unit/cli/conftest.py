"""Run the ``ocx`` CLI in-process against a fake API (a mock transport: no sockets)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from ocx.cli import calls
from ocx.cli.main import app
from ocx.client import OcxClient

URL = "http://ocx.test:8080"
Answer = httpx.Response | Callable[[httpx.Request], httpx.Response]


@dataclass
class FakeApi:
    """Answers by method and path (without /api/v1); a list answers once per call, in turn."""

    routes: dict[tuple[str, str], Answer | list[Answer]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def answer(self, method: str, path: str, status: int = 200, body: Any = None) -> None:
        """Answer ``method path`` with ``status`` and a JSON ``body``."""
        self.routes[(method, path)] = httpx.Response(status, json=body)

    def handle(self, request: httpx.Request) -> httpx.Response:
        """The mock transport's handler."""
        self.requests.append(request)
        key = (request.method, request.url.path.removeprefix("/api/v1"))
        answer = self.routes.get(key)
        if isinstance(answer, list):
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        if answer is None:
            return httpx.Response(404, json={"error": {"type": "not_found",
                                                       "message": f"no fake for {key}"}})
        return answer(request) if callable(answer) else answer

    def body(self, index: int = -1) -> Any:
        """The JSON body of a request the fake received."""
        return json.loads(self.requests[index].content)


Run = Callable[..., Result]


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    """The fake API behind every command run with ``ocx``."""
    fake = FakeApi()

    def open_client(url: str, token: str | None, timeout_s: float) -> OcxClient:
        return OcxClient(url, token, timeout_s, transport=httpx.MockTransport(fake.handle))

    monkeypatch.setattr(calls, "open_client", open_client)
    return fake


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """Where the CLI saves its login in these tests."""
    return tmp_path / "ocx" / "config.json"


@pytest.fixture
def ocx(api: FakeApi, config_file: Path) -> Run:
    """Run ``ocx ARGS``, logged in through OCX_URL/OCX_TOKEN unless ``env`` says otherwise."""

    def run(*args: str, env: dict[str, str | None] | None = None,
            input: str | None = None) -> Result:
        base: dict[str, str | None] = {"OCX_URL": URL, "OCX_TOKEN": "ocx_test",
                                       "OCX_CONFIG": str(config_file)}
        return CliRunner().invoke(app, list(args), env={**base, **(env or {})}, input=input)

    return run
