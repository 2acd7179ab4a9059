"""ocx user: passwords are asked for, never taken from the command line."""

from __future__ import annotations

from tests.unit.cli.conftest import FakeApi, Run
from tests.unit.client import payloads


def test_user_create_and_update_ask_for_a_password_only_when_told(ocx: Run,
                                                                  api: FakeApi) -> None:
    api.answer("POST", "/users", 201, payloads.user("alice@example.org"))
    api.answer("PATCH", "/users/alice@example.org", 200, payloads.user("alice@example.org"))
    created = ocx("user", "create", "alice@example.org", "--org", "acme", "--password",
                  input="long enough secret\nlong enough secret\n")
    assert created.exit_code == 0, created.output
    assert api.body() == {"email": "alice@example.org", "organization": "acme",
                          "password": "long enough secret"}
    assert ocx("user", "update", "alice@example.org", "--inactive").exit_code == 0
    assert api.body() == {"is_active": False}
