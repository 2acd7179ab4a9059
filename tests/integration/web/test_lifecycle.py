"""Deactivation removes a user from everything and ends every session; sign out everywhere."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.integration.web.conftest import Account
from tests.integration.web.forms import csrf_token, sign_in
from tests.support.world import World


def _deactivate(client: TestClient, world: World, email: str, active: bool = False) -> None:
    response = client.patch(f"/api/v1/users/{email}", headers=world["operator"].headers,
                            json={"is_active": active})
    assert response.status_code == 200, response.text


def _actions(client: TestClient, world: World, action: str) -> list[dict[str, object]]:
    events = client.get(f"/api/v1/audit?action={action}", headers=world["operator"].headers)
    assert events.status_code == 200, events.text
    items: list[dict[str, object]] = events.json()["items"]
    return items


def test_deactivation_ends_web_sessions(client: TestClient, world: World, pi_a: Account
                                        ) -> None:
    sign_in(client, pi_a.email, pi_a.password)
    assert client.get("/", follow_redirects=False).status_code == 200
    _deactivate(client, world, pi_a.email)
    assert client.get("/", follow_redirects=False).status_code == 303
    assert sign_in(client, pi_a.email, pi_a.password).status_code == 401


def test_deactivation_removes_every_membership_and_audits_each(
        client: TestClient, world: World) -> None:
    email = world["pi_a"].email
    _deactivate(client, world, email)
    members = client.get(f"/api/v1/projects/{world.project_ids['a']}/members",
                         headers=world["operator"].headers).json()["items"]
    assert email not in {m["email"] for m in members}
    org_members = client.get("/api/v1/organizations/org-a/members",
                             headers=world["operator"].headers).json()["items"]
    assert email not in {m["email"] for m in org_members}
    removed = [e for e in _actions(client, world, "member.remove")
               if e["changes"]["reason"] == "deactivated"]  # type: ignore[index]
    assert len(removed) == 1
    assert len(_actions(client, world, "member.deprovision")) == 1
    assert len(_actions(client, world, "organization.member.remove")) == 1
    assert client.get("/api/v1/me", headers=world["pi_a"].headers).status_code == 401


def test_reactivation_restores_nothing(client: TestClient, world: World, pi_a: Account
                                       ) -> None:
    _deactivate(client, world, pi_a.email)
    _deactivate(client, world, pi_a.email, active=True)
    assert sign_in(client, pi_a.email, pi_a.password).status_code == 303
    home = client.get("/").text
    assert "You belong to no organization yet." in home
    assert "You are not a member of any project yet" in home
    assert client.get("/api/v1/me", headers=world["pi_a"].headers).status_code == 401


def test_sign_out_everywhere_ends_the_other_browsers(app: FastAPI, pi_a: Account) -> None:
    with TestClient(app) as laptop, TestClient(app) as phone:
        sign_in(laptop, pi_a.email, pi_a.password)
        sign_in(phone, pi_a.email, pi_a.password)
        assert phone.get("/", follow_redirects=False).status_code == 200
        token = csrf_token(laptop.get("/").text)
        assert laptop.post("/logout/everywhere", data={}).status_code == 403  # CSRF
        response = laptop.post("/logout/everywhere", data={"csrf_token": token},
                               follow_redirects=False)
        assert response.status_code == 303
        assert "every browser" in laptop.get("/login").text
        assert phone.get("/", follow_redirects=False).status_code == 303
        assert laptop.get("/", follow_redirects=False).status_code == 303
        assert sign_in(phone, pi_a.email, pi_a.password).status_code == 303
