"""The API answers, authenticates, and speaks its one error shape."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.support.world import World


def test_health_needs_no_token(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.headers["x-request-id"]


def test_unauthenticated_list_is_401_with_error_body(client: TestClient) -> None:
    response = client.get("/api/v1/projects")
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "unauthenticated"
    assert response.headers["www-authenticate"] == "Bearer"


def test_operator_creates_org_project_user_and_member(client: TestClient, world: World) -> None:
    h = world["operator"].headers
    org = client.post("/api/v1/organizations", json={"name": "acme"}, headers=h)
    assert org.status_code == 201, org.text
    project = client.post("/api/v1/projects", json={"name": "demo", "organization": "acme"},
                          headers=h)
    assert project.status_code == 201, project.text
    user = client.post("/api/v1/users", json={"email": "bob@example.org"}, headers=h)
    assert user.status_code == 201, user.text
    member = client.post("/api/v1/projects/demo/members",
                         json={"email": "bob@example.org", "role": "member"}, headers=h)
    assert member.status_code == 201, member.text
    assert member.json()["email"] == "bob@example.org"
    again = client.post("/api/v1/organizations", json={"name": "acme"}, headers=h)
    assert again.status_code == 409
    assert "already exists" in again.json()["error"]["message"]


def test_unexpected_error_is_a_500_with_request_id_and_logged_traceback(
        app: FastAPI, world: World, caplog: pytest.LogCaptureFixture) -> None:
    @app.get("/api/v1/boom-for-test")
    def boom() -> None:
        raise RuntimeError("kaboom")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/boom-for-test", headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "req-500"
    assert response.json()["error"] == {
        "type": "internal", "message": "internal error; quote request id req-500 when reporting it"}
    assert "kaboom" not in response.text
    logged = [r for r in caplog.records if r.getMessage().startswith("unhandled error")]
    assert logged and logged[0].exc_info is not None
