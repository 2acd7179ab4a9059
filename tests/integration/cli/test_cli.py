"""The ``ocx`` CLI against the real API over HTTP: the acceptance flow and its error paths."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import Result

from ocx.client import OcxClient
from tests.integration.cli.conftest import Run
from tests.support.world import World


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_operator_builds_an_organization_project_and_membership(ocx: Run) -> None:
    for args in (["org", "create", "acme"], ["project", "create", "demo", "--org", "acme"],
                 ["user", "create", "bob@example.org"],
                 ["member", "add", "demo", "bob@example.org", "--role", "member"]):
        assert _json(ocx(*args, "-o", "json"))["id"]
    members = ocx("member", "list", "demo")
    assert members.exit_code == 0, members.output
    header, row = members.stdout.splitlines()
    assert header.split()[:3] == ["email", "name", "role"]
    assert row.split()[:3] == ["bob@example.org", "-", "member"]
    project = ocx("project", "show", "demo")
    assert ["organization", "acme"] in [line.split() for line in project.stdout.splitlines()]


def test_refusals_print_the_api_message_and_exit_1(ocx: Run) -> None:
    assert ocx("org", "create", "acme").exit_code == 0
    duplicate = ocx("org", "create", "acme")
    assert duplicate.exit_code == 1
    assert duplicate.stderr == "error: organization acme already exists\n"
    bad_token = ocx("org", "list", token="ocx_not-a-real-token")
    assert bad_token.exit_code == 1
    assert bad_token.stderr.startswith("error: invalid, expired or revoked token\n")
    invalid = ocx("org", "create", "Not A Slug!")
    assert invalid.exit_code == 1
    assert invalid.stderr.startswith("error: name: ")
    assert "Traceback" not in duplicate.output + bad_token.output + invalid.output


def test_without_a_login_the_cli_exits_2_with_a_hint(ocx: Run) -> None:
    result = ocx("whoami", token=None)
    assert result.exit_code == 2
    assert "hint: run `ocx login`" in result.stderr


def test_login_with_a_password_saves_the_token_and_logout_revokes_it(
        ocx: Run, server_url: str, world: World) -> None:
    with OcxClient(server_url, world["operator"].token) as client:
        client.create_user("carol@example.org", password="correct horse battery")
    login = ocx("login", "--email", "carol@example.org", token=None,
                input="correct horse battery\n")
    assert login.exit_code == 0, login.output
    assert _json(ocx("whoami", "-o", "json", token=None))["user"]["email"] == "carol@example.org"
    saved = json.loads(ocx("token", "list", "-o", "json", token=None).stdout)
    assert [t["revoked_at"] for t in saved] == [None]
    assert ocx("logout", token=None).exit_code == 0
    with OcxClient(server_url, world["operator"].token) as client:
        assert client.list_users(email="carol").items[0].email == "carol@example.org"
    assert ocx("whoami", token=None).exit_code == 2


def test_token_create_list_revoke(ocx: Run) -> None:
    created = _json(ocx("token", "create", "--name", "ci", "--expires-in-days", "7", "-o", "json"))
    assert created["token"].startswith("ocx_")
    assert _json(ocx("whoami", "-o", "json", token=created["token"]))["user"]["is_operator"]
    listed = ocx("token", "list")
    assert "ci" in [line.split()[0] for line in listed.stdout.splitlines()]
    revoked = _json(ocx("token", "revoke", created["id"], "-o", "json"))
    assert revoked["revoked_at"] is not None
    refused = ocx("whoami", token=created["token"])
    assert (refused.exit_code, refused.stderr.splitlines()[0]) == (
        1, "error: invalid, expired or revoked token")


def test_org_members_deletes_and_audit(ocx: Run) -> None:
    assert ocx("org", "create", "acme", "--display-name", "Acme Corp").exit_code == 0
    assert ocx("project", "create", "demo", "--org", "acme").exit_code == 0
    assert ocx("user", "create", "dora@example.org", "--org", "acme").exit_code == 0
    admin = _json(ocx("org", "member", "add", "acme", "dora@example.org", "--role", "admin",
                      "-o", "json"))
    assert admin["role"] == "admin"
    assert "dora@example.org" in ocx("org", "member", "list", "acme").stdout
    in_use = ocx("org", "delete", "acme")
    assert (in_use.exit_code, "still sponsors projects" in in_use.stderr) == (1, True)
    for args in (["org", "member", "remove", "acme", "dora@example.org"],
                 ["project", "delete", "demo"], ["org", "delete", "acme"]):
        result = ocx(*args)
        assert result.exit_code == 0, result.output
    assert ocx("org", "show", "acme").stderr == "error: organization not found\n"
    events = _json(ocx("audit", "list", "--action", "organization.create", "-o", "json"))
    assert [e["changes"]["name"] for e in events] == ["acme"]
    deleted = _json(ocx("audit", "list", "--target-type", "organization", "--by", "OPERATOR",
                        "--since", events[0]["created_at"], "-o", "json"))
    assert {e["action"] for e in deleted} >= {"organization.create", "organization.delete"}
    assert _json(ocx("audit", "list", "--by", "nobody-like-this", "-o", "json")) == []
    table = ocx("org", "list")
    assert table.exit_code == 0 and "acme" not in table.stdout


def test_operations_of_the_journal_can_be_listed_shown_and_waited_for(ocx: Run) -> None:
    for args in (["org", "create", "acme"], ["project", "create", "demo", "--org", "acme"],
                 ["user", "create", "bob@example.org"]):
        assert ocx(*args).exit_code == 0
    member = _json(ocx("member", "add", "demo", "bob@example.org", "-o", "json"))
    listed = _json(ocx("operation", "list", "-o", "json"))
    op = next(op for op in listed if op["target_id"] == member["id"])
    assert _json(ocx("operation", "show", op["id"], "-o", "json"))["state"] == "pending"
    # These tests run no workers, so the operation stays pending until the wait gives up.
    waited = ocx("operation", "wait", op["id"], "--timeout", "0.2", "--interval", "0.1")
    assert waited.exit_code == 124
    assert waited.stderr.splitlines()[-1].endswith("is still pending after 0.2s")
