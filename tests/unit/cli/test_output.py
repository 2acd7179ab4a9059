"""Every command prints a table or the API's JSON, and maps errors to a message and exit code."""

from __future__ import annotations

import json

import httpx

from tests.unit.cli.conftest import FakeApi, Run
from tests.unit.client import payloads


def test_json_prints_the_api_object(ocx: Run, api: FakeApi) -> None:
    api.answer("POST", "/organizations", 201, payloads.org("acme"))
    result = ocx("org", "create", "acme", "--display-name", "Acme Corp", "-o", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["name"] == "acme"
    assert api.body() == {"name": "acme", "display_name": "Acme Corp"}
    assert api.requests[0].headers["authorization"] == "Bearer ocx_test"


def test_table_shows_one_object_field_by_field(ocx: Run, api: FakeApi) -> None:
    api.answer("GET", "/users/bob@example.org", 200, payloads.user(name="Bob Builder"))
    result = ocx("user", "show", "bob@example.org")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(line.split() == ["name", "Bob", "Builder"] for line in lines)
    assert any(line.split() == ["is_operator", "no"] for line in lines)


def _two_pages_of_projects(api: FakeApi) -> None:
    api.routes[("GET", "/projects")] = [
        httpx.Response(200, json=payloads.page([_project("p1"), _project("p2")], "next")),
        httpx.Response(200, json=payloads.page([_project("p3")])),
    ]


def test_list_follows_pages_and_honours_limit(ocx: Run, api: FakeApi) -> None:
    _two_pages_of_projects(api)
    result = ocx("project", "list", "--org", "acme")
    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["name", "organization", "description", "id"]
    assert [row.split()[0] for row in rows] == ["p1", "p2", "p3"]
    assert api.requests[1].url.params["cursor"] == "next"
    assert api.requests[0].url.params["organization"] == "acme"
    _two_pages_of_projects(api)
    limited = ocx("project", "list", "--limit", "1", "-o", "json")
    assert [p["name"] for p in json.loads(limited.stdout)] == ["p1"]
    assert api.requests[-1].url.params["limit"] == "1"


def test_empty_list_says_none(ocx: Run, api: FakeApi) -> None:
    api.answer("GET", "/tokens", 200, payloads.page([]))
    assert ocx("token", "list").stdout.strip() == "(none)"
    assert json.loads(ocx("token", "list", "-o", "json").stdout) == []


def test_delete_confirms_in_table_and_prints_nothing_in_json(ocx: Run, api: FakeApi) -> None:
    api.routes[("DELETE", "/projects/demo")] = httpx.Response(204)
    assert ocx("project", "delete", "demo").stdout == "deleted project demo\n"
    result = ocx("project", "delete", "demo", "-o", "json")
    assert (result.exit_code, result.stdout) == (0, "")


def test_api_error_prints_its_message_and_exits_1(ocx: Run, api: FakeApi) -> None:
    api.answer("POST", "/organizations", 409,
               payloads.error("conflict", "organization acme already exists"))
    result = ocx("org", "create", "acme", "-o", "json")
    assert result.exit_code == 1
    assert result.stderr == "error: organization acme already exists\n"
    assert result.stdout == ""


def test_unauthenticated_adds_a_login_hint(ocx: Run, api: FakeApi) -> None:
    api.answer("GET", "/me", 401, payloads.error("unauthenticated", "invalid token"))
    result = ocx("whoami")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: invalid token", "hint: run `ocx login`, or set OCX_URL and OCX_TOKEN"]


def test_unreachable_server_is_exit_1_naming_the_url(ocx: Run, api: FakeApi) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    api.routes[("GET", "/organizations/acme")] = refuse
    result = ocx("org", "show", "acme")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot reach OCX at http://ocx.test:8080: ")
    assert "Traceback" not in result.output


def test_bad_choice_is_a_usage_error(ocx: Run, api: FakeApi) -> None:
    result = ocx("member", "add", "demo", "bob@example.org", "--role", "boss")
    assert result.exit_code == 2
    assert api.requests == []


def _project(name: str) -> dict[str, object]:
    return {**payloads.org(name), "organization_id": payloads.org()["id"],
            "organization": "acme"}

