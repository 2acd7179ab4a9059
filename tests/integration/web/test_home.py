"""The home page lists the signed-in person's organizations and projects, and no others."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.integration.web.conftest import PASSWORD, Account
from tests.integration.web.forms import sign_in
from tests.support.world import World


def test_home_lists_exactly_own_orgs_and_projects(client: TestClient, pi_a: Account) -> None:
    sign_in(client, pi_a.email, pi_a.password)
    page = client.get("/").text
    assert "Your organizations" in page
    assert "org-a" in page
    assert "org-a/proj-a" in page
    assert "org-b" not in page
    assert "proj-b" not in page
    assert '<span class="badge">pi</span>' in page


def test_newcomer_sees_empty_lists(client: TestClient, world: World) -> None:
    created = client.post("/api/v1/users", headers=world["operator"].headers,
                          json={"email": "new@example.org", "password": PASSWORD})
    assert created.status_code == 201, created.text
    sign_in(client, "new@example.org", PASSWORD)
    page = client.get("/").text
    assert "You belong to no organization yet." in page
    assert "You are not a member of any project yet" in page


def test_operator_sees_every_organization(client: TestClient, world: World) -> None:
    operator = world["operator"]
    client.patch("/api/v1/users/me", json={"password": PASSWORD}, headers=operator.headers)
    sign_in(client, operator.email, PASSWORD)
    page = client.get("/").text
    for name in ("org-a", "org-b", "org-a/proj-a", "org-b/proj-b"):
        assert name in page
    assert '<span class="badge">operator</span>' in page


def test_static_css_is_served(client: TestClient) -> None:
    response = client.get("/static/ocx.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")


def test_web_pages_stay_out_of_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert [path for path in paths if not path.startswith("/api/v1/")] == []
