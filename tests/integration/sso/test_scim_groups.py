"""SCIM 2.0 Groups: an institution's groups are its organization's projects."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.sso.scim_helpers import PATCH_OP, create_user, scim_token
from tests.support.world import World

pytestmark = pytest.mark.sso


def _emails(group: dict[str, Any]) -> set[str]:
    return {member["display"] for member in group["members"]}


def _patch(client: TestClient, scim: dict[str, str], group_id: str,
           operations: list[dict[str, Any]]) -> Any:
    return client.patch(f"/scim/v2/Groups/{group_id}", headers=scim,
                        json={"schemas": [PATCH_OP], "Operations": operations})


def test_groups_are_the_organizations_projects(client: TestClient, world: World) -> None:
    scim = scim_token(client, world)
    listed = client.get("/scim/v2/Groups", headers=scim).json()
    assert [g["displayName"] for g in listed["Resources"]] == ["proj-a"]
    assert "pi@a.example.org" in _emails(listed["Resources"][0])
    found = client.get('/scim/v2/Groups?filter=displayName eq "proj-a"', headers=scim).json()
    assert found["totalResults"] == 1
    group_b = world.project_ids["b"]
    assert client.get(f"/scim/v2/Groups/{group_b}", headers=scim).status_code == 404


def test_create_a_group_and_change_its_members(client: TestClient, world: World) -> None:
    scim = scim_token(client, world)
    dana = create_user(client, scim, "dana@a.example.org")
    created = client.post("/scim/v2/Groups", headers=scim,
                          json={"displayName": "Genomics", "members": [{"value": dana["id"]}]})
    assert created.status_code == 201, created.text
    group = created.json()
    assert (group["displayName"], _emails(group)) == ("genomics", {"dana@a.example.org"})
    erin = create_user(client, scim, "erin@a.example.org", externalId="e-2")
    added = _patch(client, scim, group["id"], [{"op": "add", "path": "members",
                                                "value": [{"value": erin["id"]}]}])
    assert _emails(added.json()) == {"dana@a.example.org", "erin@a.example.org"}
    removed = _patch(client, scim, group["id"], [
        {"op": "remove", "path": f'members[value eq "{dana["id"]}"]'}])
    assert _emails(removed.json()) == {"erin@a.example.org"}
    events = client.get("/api/v1/audit?action=member.deprovision",
                        headers=world["operator"].headers).json()["items"]
    assert [e["changes"]["email"] for e in events] == ["dana@a.example.org"]
    assert client.delete(f"/scim/v2/Groups/{group['id']}", headers=scim).status_code == 204
    assert client.get(f"/scim/v2/Groups/{group['id']}", headers=scim).status_code == 404


def test_group_refusals(client: TestClient, world: World) -> None:
    scim, scim_b = scim_token(client, world), scim_token(client, world, "org-b")
    group_a = world.project_ids["a"]
    duplicate = client.post("/scim/v2/Groups", headers=scim, json={"displayName": "proj-a"})
    assert duplicate.status_code == 409
    bad_name = client.post("/scim/v2/Groups", headers=scim, json={"displayName": "a b/c"})
    assert bad_name.status_code == 400
    other_user = client.get('/scim/v2/Users?filter=userName eq "pi@b.example.org"',
                            headers=scim_b).json()["Resources"][0]["id"]
    foreign = _patch(client, scim, group_a, [{"op": "add", "path": "members",
                                              "value": [{"value": other_user}]}])
    assert foreign.status_code == 404  # another institution's user
    rename = _patch(client, scim, group_a, [{"op": "replace", "path": "displayName",
                                             "value": "x"}])
    assert rename.status_code == 400
    assert client.delete(f"/scim/v2/Groups/{group_a}", headers=scim_b).status_code == 404
    assert client.get("/scim/v2/Groups").status_code == 401
