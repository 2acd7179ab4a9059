"""Findings of the first security review, each pinned by a test."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from ocx.domain.identity.models import Membership, OrgMembership, User
from ocx.runtime import Runtime
from tests.support.world import World

API = "/api/v1"


def test_only_operators_make_org_admins(client: TestClient, world: World) -> None:
    body = {"email": world["pi_b"].email, "role": "admin"}
    refused = client.post(f"{API}/organizations/org-a/members", json=body,
                          headers=world["admin_a"].headers)
    assert refused.status_code == 403
    assert "operators" in refused.json()["error"]["message"]
    granted = client.post(f"{API}/organizations/org-a/members", json=body,
                          headers=world["operator"].headers)
    assert granted.status_code == 201


def test_not_found_reads_the_same_for_hidden_and_missing(client: TestClient,
                                                         world: World) -> None:
    h = world["outsider"].headers
    pairs = [("/users/pi@b.example.org", "/users/nobody@example.org"),
             ("/organizations/org-b", "/organizations/org-zzz"),
             (f"/projects/{world.project_ids['b']}", "/projects/no-such-project")]
    for hidden, missing in pairs:
        a, b = client.get(API + hidden, headers=h), client.get(API + missing, headers=h)
        assert (a.status_code, a.json()) == (b.status_code, b.json()) == (404, a.json())


def test_ambiguous_name_considers_only_visible_projects(client: TestClient,
                                                       world: World) -> None:
    op = world["operator"].headers
    for org in ("org-a", "org-b"):
        created = client.post(f"{API}/projects", json={"name": "shared", "organization": org},
                              headers=op)
        assert created.status_code == 201
    # admin_a sees only org-a's "shared": the bare name is unambiguous for them.
    mine = client.get(f"{API}/projects/shared", headers=world["admin_a"].headers)
    assert mine.status_code == 200 and mine.json()["organization"] == "org-a"
    # An outsider learns nothing: not even that the name exists twice.
    assert client.get(f"{API}/projects/shared", headers=world["outsider"].headers
                      ).status_code == 404
    assert client.get(f"{API}/projects/shared", headers=op).status_code == 409


def test_naive_or_past_expiry_is_a_422(client: TestClient, world: World) -> None:
    url = f"{API}/projects/{world.project_ids['a']}/members"
    h = world["pi_a"].headers
    naive = client.post(url, json={"email": world["outsider"].email,
                                   "expires_at": "2030-01-01T00:00:00"}, headers=h)
    assert naive.status_code == 422
    assert naive.json()["error"]["details"][0]["field"] == "expires_at"
    past = client.post(url, json={"email": world["outsider"].email,
                                  "expires_at": "2020-01-01T00:00:00Z"}, headers=h)
    assert past.status_code == 422
    assert past.json()["error"]["message"] == "expires_at must be in the future"
    fine = client.post(url, json={"email": world["outsider"].email,
                                  "expires_at": "2030-01-01T00:00:00+02:00"}, headers=h)
    assert fine.status_code == 201
    assert fine.json()["expires_at"].startswith("2029-12-31T22:00:00")


def test_null_role_is_a_422_not_a_409(client: TestClient, world: World) -> None:
    response = client.patch(
        f"{API}/projects/{world.project_ids['a']}/members/member@a.example.org",
        json={"role": None}, headers=world["pi_a"].headers)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "role"


def test_nobody_changes_their_own_membership(client: TestClient, world: World) -> None:
    url = f"{API}/projects/{world.project_ids['a']}/members/manager@a.example.org"
    set_expiry = client.patch(url, json={"expires_at": "2031-01-01T00:00:00Z"},
                              headers=world["pi_a"].headers)
    assert set_expiry.status_code == 200
    lift = client.patch(url, json={"expires_at": None}, headers=world["manager_a"].headers)
    assert lift.status_code == 403
    assert "your own membership" in lift.json()["error"]["message"]


def test_own_password_change_needs_the_current_one_and_ends_other_sessions(
        client: TestClient, world: World) -> None:
    op = world["operator"].headers
    user = {"email": "frank@example.org", "password": "first password!"}
    assert client.post(f"{API}/users", json=user, headers=op).status_code == 201
    first = client.post(f"{API}/auth/login", json=user).json()["token"]
    second = client.post(f"{API}/auth/login", json=user).json()["token"]
    h = {"Authorization": f"Bearer {first}"}
    refused = client.patch(f"{API}/users/me", json={"password": "second password!"}, headers=h)
    assert refused.status_code == 403
    changed = client.patch(f"{API}/users/me", json={"password": "second password!",
                                                    "current_password": "first password!"},
                           headers=h)
    assert changed.status_code == 200
    assert client.get(f"{API}/me", headers=h).status_code == 200  # this session stays
    other = client.get(f"{API}/me", headers={"Authorization": f"Bearer {second}"})
    assert other.status_code == 401  # the others end
    old = client.post(f"{API}/auth/login", json=user)
    assert old.status_code == 401


def test_token_lifetimes_are_bounded(client: TestClient, world: World) -> None:
    h = world["member_a"].headers
    too_long = client.post(f"{API}/tokens", json={"name": "x", "expires_in_days": 3650},
                           headers=h)
    assert too_long.status_code == 422
    assert "at most 365" in too_long.json()["error"]["message"]
    parent = client.get(f"{API}/tokens", headers=h).json()["items"][0]["expires_at"]
    child = client.post(f"{API}/tokens", json={"name": "y", "expires_in_days": 365},
                        headers=h).json()
    assert child["expires_at"] <= parent  # never outlives the token that made it


def test_names_shaped_like_ids_are_refused(client: TestClient, world: World) -> None:
    response = client.post(f"{API}/organizations",
                           json={"name": "0123456789abcdef0123456789abcdef"},
                           headers=world["operator"].headers)
    assert response.status_code == 422
    assert "look like an id" in response.json()["error"]["message"]


def test_expired_membership_can_be_renewed_by_adding_again(client: TestClient, world: World,
                                                          runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        session.execute(update(Membership).values(expires_at=datetime.now(UTC)))
    again = client.post(f"{API}/projects/{world.project_ids['a']}/members",
                        json={"email": "member@a.example.org", "role": "member"},
                        headers=world["operator"].headers)
    assert again.status_code == 201, again.text
    assert again.json()["expires_at"] is None


def test_expired_affiliation_does_not_let_an_admin_see_the_user(
        client: TestClient, world: World, runtime: Runtime) -> None:
    h = world["admin_a"].headers
    assert client.get(f"{API}/users/member@a.example.org", headers=h).status_code == 200
    with runtime.sessions.begin() as session:
        member = session.scalar(select(User).where(User.email == "member@a.example.org"))
        assert member is not None
        session.execute(update(OrgMembership).where(OrgMembership.user_id == member.id)
                        .values(expires_at=datetime.now(UTC)))
    assert client.get(f"{API}/users/member@a.example.org", headers=h).status_code == 404
    listed = client.get(f"{API}/users", headers=h).json()["items"]
    assert "member@a.example.org" not in {u["email"] for u in listed}
