"""The device login behind ``ocx login --sso``: through the API and the real CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ocx.cli import auth as cli_auth
from ocx.cli.main import app as cli
from ocx.client import OcxClient
from ocx.domain.identity.sso_schemas import DeviceLoginPublic
from tests.integration.cli.conftest import server_url  # noqa: F401 - the served app
from tests.integration.sso.idp import browse
from tests.support.world import World

pytestmark = pytest.mark.sso


def _start(client: TestClient, provider: str = "campus") -> dict[str, Any]:
    started = client.post("/api/v1/sso/device", json={"provider": provider})
    assert started.status_code == 200, started.text
    body: dict[str, Any] = started.json()
    return body


def _poll(client: TestClient, device_code: str) -> dict[str, Any]:
    polled = client.post("/api/v1/sso/device/token",
                         json={"provider": "campus", "device_code": device_code})
    assert polled.status_code == 200, polled.text
    body: dict[str, Any] = polled.json()
    return body


def test_providers_are_listed_publicly(client: TestClient) -> None:
    listing = client.get("/api/v1/sso/providers")
    assert listing.json() == [
        {"name": "campus", "display_name": "Campus A", "protocol": "oidc"},
        {"name": "partner", "display_name": "Partner B", "protocol": "oidc"}]


def test_device_login_gives_a_token_once_the_person_confirms(client: TestClient, world: World
                                                             ) -> None:
    started = _start(client)
    assert _poll(client, started["device_code"]) == {"status": "pending", "token": None}
    done = browse(started["verification_uri_complete"], "alice", "alice-password")
    assert done.status_code == 200
    result = _poll(client, started["device_code"])
    assert result["status"] == "done"
    bearer = {"Authorization": f"Bearer {result['token']['token']}"}
    me = client.get("/api/v1/me", headers=bearer)
    assert me.json()["user"]["email"] == "alice@a.example.org"
    assert me.json()["organizations"] == {"org-a": "member"}
    again = client.post("/api/v1/sso/device/token",
                        json={"provider": "campus", "device_code": started["device_code"]})
    assert again.status_code == 401  # a device code is good for one token only


def test_a_made_up_device_code_is_refused(client: TestClient) -> None:
    refused = client.post("/api/v1/sso/device/token",
                          json={"provider": "campus", "device_code": "not-a-device-code"})
    assert refused.status_code == 401
    assert refused.json()["error"]["type"] == "unauthenticated"


def test_an_unknown_provider_is_404(client: TestClient) -> None:
    response = client.post("/api/v1/sso/device", json={"provider": "nowhere"})
    assert response.status_code == 404


def test_ocx_login_sso(server_url: str, tmp_path: Path,  # noqa: F811
                       monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[DeviceLoginPublic] = []
    original = OcxClient.start_device_login

    def remember(self: OcxClient, provider: str) -> DeviceLoginPublic:
        started.append(original(self, provider))
        return started[-1]

    def person_confirms(seconds: float) -> None:
        if len(started) == 1:  # the person confirms while the CLI waits, once
            browse(str(started[0].verification_uri_complete), "alice", "alice-password")
            started.append(started[0])

    monkeypatch.setattr(OcxClient, "start_device_login", remember)
    monkeypatch.setattr(cli_auth, "_wait", person_confirms)
    env = {"OCX_URL": server_url, "OCX_CONFIG": str(tmp_path / "config.json")}
    result = CliRunner().invoke(cli, ["login", "--sso", "campus"], env=env)
    assert result.exit_code == 0, result.output
    assert "confirm the code" in result.stderr
    assert "as alice@a.example.org" in result.stdout
    whoami = CliRunner().invoke(cli, ["whoami", "-o", "json"], env=env)
    assert '"email": "alice@a.example.org"' in whoami.stdout
