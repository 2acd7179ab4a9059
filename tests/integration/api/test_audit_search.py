"""Searching the audit trail through the API: by actor, target type and time range."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.support.world import World

AUDIT = "/api/v1/audit"


def _search(client: TestClient, world: World, who: str = "operator",
            **params: Any) -> list[dict[str, Any]]:
    found = client.get(AUDIT, params={"limit": 200, **params}, headers=world[who].headers)
    assert found.status_code == 200, found.text
    return list(found.json()["items"])


def _make_org(client: TestClient, world: World, name: str) -> None:
    made = client.post("/api/v1/organizations", json={"name": name},
                       headers=world["operator"].headers)
    assert made.status_code == 201, made.text


def test_actor_target_type_and_time_range_narrow_the_trail(client: TestClient,
                                                           world: World) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    _make_org(client, world, "acme")
    operator = world["operator"].email
    by_operator = _search(client, world, actor=operator.split("@")[0].upper(),
                          target_type="organization", since=before.isoformat())
    assert [(e["action"], e["changes"]["name"]) for e in by_operator] == [
        ("organization.create", "acme")]
    assert {e["actor"] for e in by_operator} == {operator}
    assert _search(client, world, actor="nobody-like-this", since=before.isoformat()) == []
    assert _search(client, world, target_type="organization",
                   until=before.isoformat(), action="organization.create",
                   target_id=by_operator[0]["target_id"]) == []
    everything = _search(client, world, since=before.isoformat())
    assert {e["target_type"] for e in everything} >= {"organization"}


def test_org_admins_search_only_their_organizations(client: TestClient, world: World) -> None:
    _make_org(client, world, "acme")
    seen = _search(client, world, who="admin_a", target_type="organization",
                   action="organization.create")
    assert all(e["changes"].get("name") != "acme" for e in seen)


def test_bad_times_are_refused_with_a_message(client: TestClient, world: World) -> None:
    headers = world["operator"].headers
    for params, message in (({"since": "2026-11-01T00:00:00"}, "since: give a time zone"),
                            ({"since": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"},
                             "until must come after since")):
        refused = client.get(AUDIT, params=params, headers=headers)
        assert refused.status_code == 422, refused.text
        assert message in refused.text
    assert client.get(AUDIT, params={"since": "yesterday"}, headers=headers).status_code == 422
