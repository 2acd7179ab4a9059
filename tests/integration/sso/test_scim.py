"""SCIM 2.0 provisioning by an institution: users created, found, deactivated, deleted."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.sso.scim_helpers import PATCH_OP, create_user, scim_token
from tests.support.world import World

pytestmark = pytest.mark.sso
def _deactivate(client: TestClient, headers: dict[str, str], user_id: str,
                value: Any = False) -> dict[str, Any]:
    patched = client.patch(f"/scim/v2/Users/{user_id}", headers=headers, json={
        "schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active",
                                                "value": value}]})
    assert patched.status_code == 200, patched.text
    body: dict[str, Any] = patched.json()
    return body


def test_create_get_and_filter_a_user(client: TestClient, world: World) -> None:
    scim = scim_token(client, world)
    user = create_user(client, scim, "Dana@A.Example.org")
    assert (user["userName"], user["displayName"], user["active"], user["externalId"]) == (
        "dana@a.example.org", "Dana Doe", True, "e-1")
    assert client.get(f"/scim/v2/Users/{user['id']}", headers=scim).json() == user
    found = client.get('/scim/v2/Users?filter=userName eq "dana@a.example.org"', headers=scim)
    assert found.json()["totalResults"] == 1
    assert found.json()["Resources"][0]["id"] == user["id"]
    members = client.get("/api/v1/organizations/org-a/members",
                         headers=world["operator"].headers).json()["items"]
    assert "dana@a.example.org" in {m["email"] for m in members}


def test_a_duplicate_user_is_a_uniqueness_error(client: TestClient, world: World) -> None:
    scim = scim_token(client, world)
    create_user(client, scim, "dana@a.example.org")
    again = client.post("/scim/v2/Users", json={"userName": "dana@a.example.org"},
                        headers=scim)
    assert again.status_code == 409
    assert again.json()["scimType"] == "uniqueness"
    taken = client.post("/scim/v2/Users", json={"userName": world["pi_b"].email},
                        headers=scim)
    assert taken.status_code == 409  # another organization's user is never taken over


def test_patch_active_false_deprovisions_the_user(client: TestClient, world: World) -> None:
    scim = scim_token(client, world)
    pi = client.get(f'/scim/v2/Users?filter=userName eq "{world["pi_a"].email}"',
                    headers=scim).json()["Resources"][0]
    assert _deactivate(client, scim, pi["id"], value="False")["active"] is False
    assert client.get("/api/v1/me", headers=world["pi_a"].headers).status_code == 401
    members = client.get(f"/api/v1/projects/{world.project_ids['a']}/members",
                         headers=world["operator"].headers).json()["items"]
    assert world["pi_a"].email not in {m["email"] for m in members}
    still = client.get(f"/scim/v2/Users/{pi['id']}", headers=scim)
    assert still.status_code == 200 and still.json()["active"] is False
    assert _deactivate(client, scim, pi["id"], value=True)["active"] is True
    assert client.get("/api/v1/me", headers=world["pi_a"].headers).status_code == 401


def test_delete_deactivates_and_forgets(client: TestClient, world: World) -> None:
    scim = scim_token(client, world)
    user = create_user(client, scim, "dana@a.example.org")
    assert client.delete(f"/scim/v2/Users/{user['id']}", headers=scim).status_code == 204
    assert client.get(f"/scim/v2/Users/{user['id']}", headers=scim).status_code == 404
    shown = client.get("/api/v1/users/dana@a.example.org", headers=world["operator"].headers)
    assert shown.json()["is_active"] is False


def test_one_institution_cannot_see_anothers_users(client: TestClient, world: World) -> None:
    scim_a, scim_b = scim_token(client, world, "org-a"), scim_token(client, world, "org-b")
    user = create_user(client, scim_a, "dana@a.example.org")
    assert client.get(f"/scim/v2/Users/{user['id']}", headers=scim_b).status_code == 404
    assert client.patch(f"/scim/v2/Users/{user['id']}", headers=scim_b, json={
        "schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]
    }).status_code == 404
    listed = client.get("/scim/v2/Users", headers=scim_b).json()
    assert "dana@a.example.org" not in {r["userName"] for r in listed["Resources"]}


@pytest.mark.parametrize("auth", [None, "Bearer ocxscim_not-a-token", "operator", "revoked"])
def test_scim_needs_a_validscim_token(client: TestClient, world: World, auth: str | None
                                       ) -> None:
    headers: dict[str, str] = {}
    if auth == "operator":  # a user's API token is not a SCIM token, even an operator's
        headers = world["operator"].headers
    elif auth == "revoked":
        headers = scim_token(client, world)
        token_id = client.get("/api/v1/organizations/org-a/scim-tokens",
                              headers=world["operator"].headers).json()[0]["id"]
        client.delete(f"/api/v1/organizations/org-a/scim-tokens/{token_id}",
                      headers=world["operator"].headers)
    elif auth:
        headers = {"Authorization": auth}
    for method, path in [("GET", "/scim/v2/Users"), ("POST", "/scim/v2/Users"),
                         ("DELETE", f"/scim/v2/Users/{world.org_ids['a']}")]:
        response = client.request(method, path, headers=headers, json={"userName": "x@y.z"})
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]


@pytest.mark.parametrize("body", [{}, {"userName": 5}, {"userName": "no-at-sign"},
                                  {"userName": "a@b.example.org", "active": "maybe"},
                                  {"userName": "a\u0000@b.example.org"}, []])
def test_bad_bodies_are_400(client: TestClient, world: World, body: Any) -> None:
    response = client.post("/scim/v2/Users", json=body, headers=scim_token(client, world))
    assert response.status_code in (400, 422), response.text


def test_bad_filters_and_patches_are_400(client: TestClient, world: World) -> None:
    scim = scim_token(client, world)
    user = create_user(client, scim, "dana@a.example.org")
    bad = client.get('/scim/v2/Users?filter=emails co "x"', headers=scim)
    assert bad.status_code == 400 and bad.json()["scimType"] == "invalidFilter"
    for operations in ([], [{"op": "replace", "path": "active", "value": "maybe"}],
                       [{"op": "explode"}]):
        patched = client.patch(f"/scim/v2/Users/{user['id']}", headers=scim,
                               json={"schemas": [PATCH_OP], "Operations": operations})
        assert patched.status_code == 400, patched.text
