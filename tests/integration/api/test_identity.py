"""Identity through the API: visibility, role rules, tokens, pagination, audit, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from ocx.domain.audit.models import AuditEvent
from ocx.domain.identity.models import ApiToken, Membership, User
from ocx.runtime import Runtime
from tests.integration.onboarding.helpers import make_eligible
from tests.support.world import World

API = "/api/v1"


def names(response: object) -> list[str]:
    body = response.json()  # type: ignore[attr-defined]
    return sorted(item.get("email") or item["name"] for item in body["items"])


def test_lists_show_only_what_the_caller_may_see(client: TestClient, world: World) -> None:
    member = world["member_a"].headers
    assert names(client.get(f"{API}/projects", headers=member)) == ["proj-a"]
    assert names(client.get(f"{API}/organizations", headers=member)) == ["org-a"]
    assert names(client.get(f"{API}/users", headers=member)) == ["member@a.example.org"]
    admin_users = names(client.get(f"{API}/users", headers=world["admin_a"].headers))
    assert admin_users == sorted(f"{r}@a.example.org" for r in ("admin", "pi", "manager",
                                                                 "member"))
    everything = names(client.get(f"{API}/projects", headers=world["operator"].headers))
    assert everything == ["proj-a", "proj-b"]
    assert names(client.get(f"{API}/projects", headers=world["outsider"].headers)) == []


def test_project_filters(client: TestClient, world: World) -> None:
    h = world["operator"].headers
    assert names(client.get(f"{API}/projects?organization=org-b", headers=h)) == ["proj-b"]
    assert names(client.get(f"{API}/projects?name=proj-a", headers=h)) == ["proj-a"]
    assert names(client.get(f"{API}/projects?name=nothing", headers=h)) == []


def test_manager_cannot_grant_or_remove_pi(client: TestClient, world: World,
                                           runtime: Runtime) -> None:
    h = world["manager_a"].headers
    project = world.project_ids["a"]
    grant = client.post(f"{API}/projects/{project}/members",
                        json={"email": world["outsider"].email, "role": "pi"}, headers=h)
    assert grant.status_code == 403
    assert "pi role" in grant.json()["error"]["message"]
    remove = client.delete(f"{API}/projects/{project}/members/pi@a.example.org", headers=h)
    assert remove.status_code == 403
    pi = world["pi_a"].headers
    make_eligible(runtime, "manager@a.example.org", "org-a")  # only eligible users lead
    promoted = client.patch(f"{API}/projects/{project}/members/manager@a.example.org",
                            json={"role": "pi"}, headers=pi)
    assert promoted.status_code == 200
    assert promoted.json()["role"] == "pi"


def test_member_add_twice_is_a_conflict(client: TestClient, world: World) -> None:
    h = world["pi_a"].headers
    url = f"{API}/projects/{world.project_ids['a']}/members"
    body = {"email": world["outsider"].email, "role": "member"}
    assert client.post(url, json=body, headers=h).status_code == 201
    again = client.post(url, json=body, headers=h)
    assert again.status_code == 409
    assert again.json()["error"]["type"] == "conflict"
    # The new member now sees the project.
    seen = names(client.get(f"{API}/projects", headers=world["outsider"].headers))
    assert seen == ["proj-a"]


def test_expired_membership_grants_nothing(client: TestClient, world: World,
                                           runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        member = session.scalar(select(User).where(User.email == "member@a.example.org"))
        assert member is not None
        session.execute(update(Membership).where(Membership.user_id == member.id)
                        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    response = client.get(f"{API}/projects/{world.project_ids['a']}",
                          headers=world["member_a"].headers)
    assert response.status_code == 404


def test_token_lifecycle(client: TestClient, world: World, runtime: Runtime) -> None:
    created = client.post(f"{API}/tokens", json={"name": "laptop", "expires_in_days": 7},
                          headers=world["member_a"].headers)
    assert created.status_code == 201
    secret = created.json()["token"]
    mine = {"Authorization": f"Bearer {secret}"}
    assert client.get(f"{API}/me", headers=mine).json()["user"]["email"] == "member@a.example.org"
    listed = client.get(f"{API}/tokens", headers=mine).json()["items"]
    assert all("token" not in item for item in listed)
    assert {item["name"] for item in listed} == {"test", "laptop"}
    with runtime.sessions() as session:
        stored = session.scalars(select(ApiToken.digest)).all()
    assert secret not in stored  # only the digest is kept
    revoked = client.delete(f"{API}/tokens/{created.json()['id']}", headers=mine)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    after = client.get(f"{API}/me", headers=mine)
    assert after.status_code == 401
    assert after.json()["error"]["message"] == "invalid, expired or revoked token"


def test_expired_token_is_refused(client: TestClient, world: World, runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        session.execute(update(ApiToken).values(expires_at=datetime.now(UTC)))
    assert client.get(f"{API}/me", headers=world["member_a"].headers).status_code == 401


def test_deactivated_user_loses_access(client: TestClient, world: World) -> None:
    op = world["operator"].headers
    response = client.patch(f"{API}/users/member@a.example.org", json={"is_active": False},
                            headers=op)
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert client.get(f"{API}/me", headers=world["member_a"].headers).status_code == 401
    # Only operators (de)activate, and not themselves.
    selfish = client.patch(f"{API}/users/me", json={"is_active": False}, headers=op)
    assert selfish.status_code == 422
    pi_try = client.patch(f"{API}/users/pi@a.example.org", json={"is_active": False},
                          headers=world["pi_a"].headers)
    assert pi_try.status_code == 403


def test_password_login(client: TestClient, world: World) -> None:
    op = world["operator"].headers
    body = {"email": "carol@example.org", "password": "correct horse battery"}
    assert client.post(f"{API}/users", json=body, headers=op).status_code == 201
    wrong = client.post(f"{API}/auth/login", json={**body, "password": "nope"})
    assert wrong.status_code == 401
    nobody = client.post(f"{API}/auth/login", json={**body, "email": "nobody@example.org"})
    assert nobody.json() == wrong.json()  # no hint whether the account exists
    ok = client.post(f"{API}/auth/login", json=body)
    assert ok.status_code == 201
    me = client.get(f"{API}/me", headers={"Authorization": f"Bearer {ok.json()['token']}"})
    assert me.json()["user"]["email"] == "carol@example.org"


def test_cursor_pagination_walks_every_row_once(client: TestClient, world: World) -> None:
    h = world["operator"].headers
    for i in range(7):
        client.post(f"{API}/organizations", json={"name": f"page-{i}"}, headers=h)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"{API}/organizations", params=params, headers=h).json()
        assert len(page["items"]) <= 3
        seen += [item["name"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted({*seen}) and len(seen) == 9


def test_bad_cursor_and_limit_are_clear_errors(client: TestClient, world: World) -> None:
    h = world["operator"].headers
    bad = client.get(f"{API}/organizations?cursor=garbage", headers=h)
    assert bad.status_code == 422
    assert "cursor" in bad.json()["error"]["message"]
    too_many = client.get(f"{API}/organizations?limit=100000", headers=h)
    assert too_many.status_code == 422
    assert too_many.json()["error"]["details"][0]["field"] == "query.limit"


def test_validation_errors_name_the_field(client: TestClient, world: World) -> None:
    h = world["operator"].headers
    bad = client.post(f"{API}/organizations", json={"name": "Not A Slug!"}, headers=h)
    assert bad.status_code == 422
    assert bad.json()["error"]["message"].startswith("name:")
    extra = client.post(f"{API}/organizations", json={"name": "ok", "colour": "red"}, headers=h)
    assert extra.status_code == 422
    malformed = client.post(f"{API}/organizations", content=b"{not json",
                            headers={**h, "Content-Type": "application/json"})
    assert malformed.status_code == 400
    assert malformed.json()["error"]["type"] == "bad_request"
    nowhere = client.get(f"{API}/nothing-here", headers=h)
    assert nowhere.status_code == 404
    assert nowhere.json()["error"]["type"] == "not_found"


def test_project_name_lookup(client: TestClient, world: World) -> None:
    h = world["operator"].headers
    client.post(f"{API}/projects", json={"name": "proj-a", "organization": "org-b"}, headers=h)
    ambiguous = client.get(f"{API}/projects/proj-a", headers=h)
    assert ambiguous.status_code == 409
    assert "ORGANIZATION:proj-a" in ambiguous.json()["error"]["message"]
    exact = client.get(f"{API}/projects/org-b:proj-a", headers=h)
    assert exact.status_code == 200, exact.text
    assert exact.json()["organization"] == "org-b"


def test_request_id_is_echoed_and_recorded(client: TestClient, world: World,
                                           runtime: Runtime) -> None:
    h = {**world["operator"].headers, "X-Request-ID": "trace-123"}
    response = client.post(f"{API}/organizations", json={"name": "traced"}, headers=h)
    assert response.headers["x-request-id"] == "trace-123"
    junk = client.get(f"{API}/health", headers={"X-Request-ID": "bad id\nwith newline"})
    assert junk.headers["x-request-id"] != "bad id\nwith newline"
    with runtime.sessions() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "organization.create"))
    assert event is not None and event.request_id == "trace-123"
    assert event.actor == "operator@ocx.example.org"


def test_audit_never_holds_secrets_and_is_scoped(client: TestClient, world: World) -> None:
    op = world["operator"].headers
    client.post(f"{API}/users", json={"email": "dave@example.org", "password": "s3cret-pass-word",
                                      "organization": "org-a"}, headers=op)
    client.post(f"{API}/users", json={"email": "erin@example.org", "organization": "org-b"},
                headers=op)
    everything = client.get(f"{API}/audit?limit=500", headers=op).text
    assert "s3cret-pass-word" not in everything
    assert world["member_a"].token not in everything
    admin_view = client.get(f"{API}/audit?action=user.create",
                            headers=world["admin_a"].headers).json()["items"]
    assert [e["changes"]["email"] for e in admin_view] == ["dave@example.org"]
    assert client.get(f"{API}/audit", headers=world["pi_a"].headers).status_code == 403


def test_org_delete_refused_while_it_sponsors_projects(client: TestClient, world: World) -> None:
    h = world["operator"].headers
    refused = client.delete(f"{API}/organizations/org-a", headers=h)
    assert refused.status_code == 409
    assert "projects" in refused.json()["error"]["message"]
    assert client.delete(f"{API}/projects/{world.project_ids['a']}", headers=h).status_code == 204
    assert client.delete(f"{API}/organizations/org-a", headers=h).status_code == 204
    assert client.get(f"{API}/organizations/org-a", headers=h).status_code == 404


def test_audit_pages_newest_first(client: TestClient, world: World) -> None:
    h = world["operator"].headers
    for i in range(5):
        client.post(f"{API}/organizations", json={"name": f"audited-{i}"}, headers=h)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"action": "organization.create", "order": "newest", "limit": 2,
                  **({"cursor": cursor} if cursor else {})}
        page = client.get(f"{API}/audit", params=params, headers=h).json()
        seen += [event["changes"]["name"] for event in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == [f"audited-{i}" for i in reversed(range(5))]


def test_nul_characters_are_refused_everywhere(client: TestClient, world: World) -> None:
    h = world["operator"].headers
    body = client.post(f"{API}/organizations", json={"name": "nul", "description": "a\x00b"},
                       headers=h)
    assert body.status_code == 422
    assert body.json()["error"]["message"] == "description: must not contain NUL characters"
    query = client.get(f"{API}/projects?name=a%00b", headers=h)
    assert query.status_code == 400
    assert query.headers["x-request-id"]
    path = client.get(f"{API}/organizations/a%00b", headers=h)
    assert path.status_code == 400
