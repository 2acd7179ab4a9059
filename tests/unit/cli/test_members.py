"""ocx member: roles and expiry dates as the API expects them."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.unit.cli.conftest import FakeApi, Run
from tests.unit.client import payloads


def _membership(role: str = "member") -> dict[str, Any]:
    return {**payloads.user(), "project_id": str(uuid.uuid4()), "user_id": str(uuid.uuid4()),
            "role": role, "expires_at": None}


@pytest.mark.parametrize(("given", "sent"), [
    ("2026-12-31", "2026-12-31T00:00:00Z"),
    ("2026-12-31T17:30:00+02:00", "2026-12-31T17:30:00+02:00"),
])
def test_expiry_is_sent_as_an_aware_time(ocx: Run, api: FakeApi, given: str, sent: str) -> None:
    api.answer("POST", "/projects/demo/members", 201, _membership("pi"))
    result = ocx("member", "add", "demo", "bob@example.org", "--role", "PI", "--expires", given)
    assert result.exit_code == 0, result.output
    assert api.body() == {"email": "bob@example.org", "role": "pi", "expires_at": sent}


def test_bad_expiry_is_a_usage_error(ocx: Run, api: FakeApi) -> None:
    result = ocx("member", "add", "demo", "bob@example.org", "--expires", "next tuesday")
    assert result.exit_code == 2
    assert "expected a date" in result.output
    assert api.requests == []


def test_update_can_clear_the_expiry_but_not_also_set_it(ocx: Run, api: FakeApi) -> None:
    api.answer("PATCH", "/projects/demo/members/bob@example.org", 200, _membership())
    result = ocx("member", "update", "demo", "bob@example.org", "--no-expiry")
    assert result.exit_code == 0, result.output
    assert api.body() == {"expires_at": None}
    both = ocx("member", "update", "demo", "bob@example.org", "--no-expiry",
               "--expires", "2026-01-01")
    assert both.exit_code == 2
    assert both.stderr == "error: give --expires or --no-expiry, not both\n"
