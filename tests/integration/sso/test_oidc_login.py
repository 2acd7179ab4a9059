"""OpenID Connect sign-in against real providers: first login, placement, replay, linking."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.integration.sso.idp import authorize, sso_login
from tests.support.world import World

pytestmark = pytest.mark.sso


def _members(client: TestClient, world: World, org: str) -> set[str]:
    listing = client.get(f"/api/v1/organizations/{org}/members",
                         headers=world["operator"].headers)
    assert listing.status_code == 200, listing.text
    return {row["email"] for row in listing.json()["items"]}


def test_login_page_offers_every_provider(client: TestClient) -> None:
    page = client.get("/login").text
    assert 'href="/auth/oidc/campus/login"' in page and "Campus A" in page
    assert 'href="/auth/oidc/partner/login"' in page
    assert 'href="/auth/saml/campus-saml/login"' in page and "Campus A (SAML)" in page


def test_first_login_creates_the_user_in_the_org_of_their_email_domain(
        client: TestClient, world: World) -> None:
    response = sso_login(client, "campus", "alice", "alice-password")
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/"
    home = client.get("/")
    assert "Signed in as alice@a.example.org with Campus A." in home.text
    assert "alice@a.example.org" in _members(client, world, "org-a")
    users = client.get("/api/v1/users?email=alice@", headers=world["operator"].headers)
    assert [u["name"] for u in users.json()["items"]] == ["Alice Anders"]


def test_the_next_login_finds_the_same_user(app: FastAPI, world: World) -> None:
    for _ in range(2):
        with TestClient(app) as browser:
            assert sso_login(browser, "campus", "alice", "alice-password").status_code == 303
    with TestClient(app) as api:
        users = api.get("/api/v1/users?email=alice@", headers=world["operator"].headers)
        assert len(users.json()["items"]) == 1
        events = api.get("/api/v1/audit?action=user.login", headers=world["operator"].headers)
        assert events.status_code == 200


def test_a_provider_can_place_all_its_users_in_one_org(client: TestClient, world: World
                                                        ) -> None:
    assert sso_login(client, "partner", "bob", "bob-password").status_code == 303
    assert "bob@b.example.org" in _members(client, world, "org-b")


def test_a_replayed_callback_is_rejected(client: TestClient) -> None:
    start = client.get("/auth/oidc/campus/login", follow_redirects=False)
    callback = authorize(start.headers["location"], "alice", "alice-password")
    assert client.get(callback, follow_redirects=False).status_code == 303
    replay = client.get(callback, follow_redirects=False)
    assert replay.status_code == 400
    assert "already used" in replay.text


def test_a_replayed_callback_with_the_old_cookie_is_rejected_by_the_provider(
        client: TestClient) -> None:
    start = client.get("/auth/oidc/campus/login", follow_redirects=False)
    pending_cookie = client.cookies["ocx_session"]
    callback = authorize(start.headers["location"], "alice", "alice-password")
    assert client.get(callback, follow_redirects=False).status_code == 303
    client.cookies.clear()
    client.cookies.set("ocx_session", pending_cookie)
    replay = client.get(callback, follow_redirects=False)
    assert replay.status_code == 401  # the code was redeemed once; the provider refuses it
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_callback_started_in_another_browser_is_rejected(app: FastAPI) -> None:
    with TestClient(app) as victim, TestClient(app) as attacker:
        start = attacker.get("/auth/oidc/campus/login", follow_redirects=False)
        callback = authorize(start.headers["location"], "alice", "alice-password")
        victim.get("/auth/oidc/campus/login", follow_redirects=False)  # its own, other state
        response = victim.get(callback, follow_redirects=False)
        assert response.status_code == 400
        assert victim.get("/", follow_redirects=False).status_code == 303


def test_a_state_for_another_provider_is_rejected(client: TestClient) -> None:
    start = client.get("/auth/oidc/campus/login", follow_redirects=False)
    callback = authorize(start.headers["location"], "alice", "alice-password")
    wrong = callback.replace("/auth/oidc/campus/", "/auth/oidc/partner/")
    assert client.get(wrong, follow_redirects=False).status_code == 400


def test_an_error_from_the_provider_is_shown(client: TestClient) -> None:
    client.get("/auth/oidc/campus/login", follow_redirects=False)
    response = client.get("/auth/oidc/campus/callback?error=access_denied&state=x")
    assert response.status_code == 400
    assert "access_denied" in response.text


def test_an_unknown_provider_is_404(client: TestClient) -> None:
    assert client.get("/auth/oidc/nowhere/login").status_code == 404


def test_an_unverified_email_cannot_create_an_account(client: TestClient) -> None:
    response = sso_login(client, "campus", "carol", "carol-password")
    assert response.status_code == 401
    assert "verified email" in response.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_an_existing_local_account_is_not_taken_over_by_email(
        client: TestClient, world: World) -> None:
    created = client.post("/api/v1/users", headers=world["operator"].headers,
                          json={"email": "alice@a.example.org", "name": "Local Alice"})
    assert created.status_code == 201, created.text
    response = sso_login(client, "campus", "alice", "alice-password")
    assert response.status_code == 409
    assert "link your campus identity" in response.text


def test_one_person_may_link_two_identities(app: FastAPI, world: World) -> None:
    with TestClient(app) as browser:
        assert sso_login(browser, "campus", "alice", "alice-password").status_code == 303
        linked = sso_login(browser, "partner", "alice", "alice-password", link=True)
        assert linked.status_code == 303, linked.text
        assert "identity is now linked" in browser.get("/").text
    with TestClient(app) as browser:
        assert sso_login(browser, "partner", "alice", "alice-password").status_code == 303
        assert "Signed in as alice@a.example.org with Partner B." in browser.get("/").text
    with TestClient(app) as api:
        users = api.get("/api/v1/users?email=alice@", headers=world["operator"].headers)
        assert len(users.json()["items"]) == 1


def test_an_identity_linked_to_someone_else_cannot_be_linked_again(app: FastAPI) -> None:
    with TestClient(app) as browser:
        assert sso_login(browser, "partner", "bob", "bob-password").status_code == 303
    with TestClient(app) as browser:
        assert sso_login(browser, "campus", "alice", "alice-password").status_code == 303
        linked = sso_login(browser, "partner", "bob", "bob-password", link=True)
        assert linked.status_code == 409


def test_a_deactivated_user_cannot_sign_in(client: TestClient, world: World) -> None:
    assert sso_login(client, "campus", "alice", "alice-password").status_code == 303
    client.cookies.clear()
    deactivated = client.patch("/api/v1/users/alice@a.example.org",
                               headers=world["operator"].headers, json={"is_active": False})
    assert deactivated.status_code == 200, deactivated.text
    response = sso_login(client, "campus", "alice", "alice-password")
    assert response.status_code == 401
    assert "deactivated" in response.text
