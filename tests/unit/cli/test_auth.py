"""login, logout, whoami and the saved login: where the URL and token come from."""

from __future__ import annotations

import json
import stat
import uuid
from pathlib import Path

import httpx

from tests.unit.cli.conftest import URL, FakeApi, Run
from tests.unit.client import payloads

NO_ENV: dict[str, str | None] = {"OCX_URL": None, "OCX_TOKEN": None}


def _me(email: str = "bob@example.org") -> dict[str, object]:
    return {"user": payloads.user(email), "organizations": {"acme": "admin"},
            "projects": {"acme/demo": "pi"}}


def _token(token_id: str, **fields: object) -> dict[str, object]:
    return {**payloads.org("cli"), "id": token_id, "prefix": "ocx_abcdef",
            "expires_at": payloads.NOW, "revoked_at": None, "last_used_at": None, **fields}


def _save(config_file: Path, **fields: object) -> None:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(json.dumps(fields))
    config_file.chmod(0o600)


def test_without_token_or_config_exits_2_with_a_hint(ocx: Run, api: FakeApi) -> None:
    result = ocx("org", "list", env=NO_ENV)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: not logged in", "hint: run `ocx login`, or set OCX_URL and OCX_TOKEN"]
    assert api.requests == []


def test_login_with_token_checks_it_and_saves_a_private_file(
        ocx: Run, api: FakeApi, config_file: Path) -> None:
    api.answer("GET", "/me", 200, _me())
    result = ocx("login", "--url", f"{URL}/api/v1/", "--token", "ocx_given", env=NO_ENV)
    assert result.exit_code == 0, result.output
    assert f"logged in to {URL} as bob@example.org" in result.stdout
    assert json.loads(config_file.read_text()) == {"url": URL, "token": "ocx_given"}
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    assert api.requests[0].headers["authorization"] == "Bearer ocx_given"
    later = ocx("whoami", "-o", "json", env=NO_ENV)
    assert json.loads(later.stdout)["user"]["email"] == "bob@example.org"
    assert api.requests[-1].headers["authorization"] == "Bearer ocx_given"


def test_environment_overrides_the_saved_login(ocx: Run, api: FakeApi,
                                               config_file: Path) -> None:
    _save(config_file, url="http://elsewhere.test", token="ocx_saved")
    api.answer("GET", "/me", 200, _me())
    assert ocx("whoami", env={"OCX_URL": None}).exit_code == 0
    request = api.requests[-1]
    assert (request.url.host, request.headers["authorization"]) == ("elsewhere.test",
                                                                    "Bearer ocx_test")


def test_login_with_password_then_logout_revokes_that_token(
        ocx: Run, api: FakeApi, config_file: Path) -> None:
    token_id = str(uuid.uuid4())
    api.answer("POST", "/auth/login", 201, _token(token_id, token="ocx_new"))
    api.answer("GET", "/me", 200, _me())
    api.answer("DELETE", f"/tokens/{token_id}", 200, _token(token_id, revoked_at=payloads.NOW))
    result = ocx("login", "--url", URL, "--email", "bob@example.org",
                 input="s3cret-passphrase\n", env=NO_ENV)
    assert result.exit_code == 0, result.output
    assert "s3cret" not in result.output
    assert api.body(0)["email"] == "bob@example.org"
    assert api.body(0)["password"] == "s3cret-passphrase"
    assert api.body(0)["token_name"].startswith("cli@")
    assert json.loads(config_file.read_text())["token_id"] == token_id
    result = ocx("logout", env=NO_ENV)
    assert (result.exit_code, result.stderr) == (0, ""), result.output
    assert api.requests[-1].method == "DELETE"
    assert api.requests[-1].headers["authorization"] == "Bearer ocx_new"
    assert json.loads(config_file.read_text()) == {"url": URL}


def test_logging_in_again_revokes_the_token_an_earlier_login_made(
        ocx: Run, api: FakeApi, config_file: Path) -> None:
    token_id = str(uuid.uuid4())
    _save(config_file, url=URL, token="ocx_made", token_id=token_id)
    api.answer("GET", "/me", 200, _me())
    api.answer("DELETE", f"/tokens/{token_id}", 200, _token(token_id, revoked_at=payloads.NOW))
    result = ocx("login", "--token", "ocx_given", env=NO_ENV)
    assert (result.exit_code, result.stderr) == (0, ""), result.output
    assert (api.requests[-1].method, api.requests[-1].headers["authorization"]) == (
        "DELETE", "Bearer ocx_made")
    assert json.loads(config_file.read_text())["token"] == "ocx_given"


def test_logout_forgets_the_token_even_if_the_server_is_down(
        ocx: Run, api: FakeApi, config_file: Path) -> None:
    token_id = str(uuid.uuid4())
    _save(config_file, url=URL, token="ocx_saved", token_id=token_id)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    api.routes[("DELETE", f"/tokens/{token_id}")] = refuse
    result = ocx("logout", env=NO_ENV)
    assert result.exit_code == 0
    assert "warning: could not revoke the token on the server" in result.stderr
    assert "token" not in json.loads(config_file.read_text())
    assert ocx("logout", env=NO_ENV).stdout == "not logged in\n"


def test_wrong_password_is_exit_1_and_saves_nothing(ocx: Run, api: FakeApi,
                                                    config_file: Path) -> None:
    api.answer("POST", "/auth/login", 401,
               payloads.error("unauthenticated", "wrong email or password"))
    result = ocx("login", "--email", "bob@example.org", input="nope\n", env=NO_ENV)
    assert result.exit_code == 1
    assert "error: wrong email or password" in result.stderr
    assert not config_file.exists()


def test_email_and_token_together_is_a_usage_error(ocx: Run) -> None:
    result = ocx("login", "--email", "a@b.org", "--token", "x")
    assert result.exit_code == 2
    assert result.stderr == "error: give --email or --token, not both\n"


def test_broken_config_file_is_exit_2_naming_it(ocx: Run, config_file: Path) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text("{not json")
    result = ocx("whoami", env=NO_ENV)
    assert result.exit_code == 2
    assert f"error: {config_file} is not a valid OCX config file" in result.stderr


def test_config_readable_by_others_gets_a_warning(ocx: Run, api: FakeApi,
                                                  config_file: Path) -> None:
    _save(config_file, url=URL, token="ocx_saved")
    config_file.chmod(0o644)
    api.answer("GET", "/me", 200, _me())
    result = ocx("whoami", env=NO_ENV)
    assert result.exit_code == 0
    assert f"run `chmod 600 {config_file}`" in result.stderr


def test_malformed_url_is_exit_2(ocx: Run) -> None:
    result = ocx("org", "list", env={"OCX_URL": "ocx.test:8080"})
    assert result.exit_code == 2
    assert result.stderr.startswith("error: invalid OCX URL 'ocx.test:8080'")


def test_whoami_table_lists_organizations_and_projects(ocx: Run, api: FakeApi) -> None:
    api.answer("GET", "/me", 200, _me())
    lines = [line.split() for line in ocx("whoami").stdout.splitlines()]
    assert ["server", URL] in lines
    assert ["organizations", "acme", "(admin)"] in lines
    assert ["projects", "acme/demo", "(pi)"] in lines
