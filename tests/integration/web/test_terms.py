"""Versioned terms of use: accepted once per version, asked again when they change."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from ocx.config import Settings
from ocx.domain.identity import service
from ocx.domain.identity.passwords import hash_password
from ocx.runtime import Runtime
from tests.integration.web.conftest import PASSWORD, Account
from tests.integration.web.forms import csrf_token, sign_in
from tests.support.world import World


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Terms of use version 2026-11 in force."""
    return settings.model_copy(update={"terms_version": "2026-11",
                                       "terms_url": "https://ocx.example.org/terms"})


@pytest.fixture
def pi_a(runtime: Runtime, world: World) -> Account:
    """The PI of org-a with a password, set in the database: with terms in force, the API
    answers them nothing else until they accept (docs/onboarding.md)."""
    with runtime.sessions.begin() as session:
        user = service.find_user(session, world["pi_a"].email)
        user.password_hash = hash_password(PASSWORD)
    return Account(world["pi_a"].email, PASSWORD)


@pytest.fixture(autouse=True)
def operator_accepted(client: TestClient, world: World) -> None:
    """The operator, who reads the audit trail here, accepted the terms through the API."""
    accepted = client.post("/api/v1/terms/accept", json={"version": "2026-11"},
                           headers=world["operator"].headers)
    assert accepted.status_code == 200, accepted.text


def _accept(client: TestClient, version: str) -> None:
    token = csrf_token(client.get("/terms").text)
    response = client.post("/terms", data={"csrf_token": token, "version": version},
                           follow_redirects=False)
    assert response.status_code == 303


def test_terms_are_asked_until_accepted(client: TestClient, world: World, pi_a: Account
                                        ) -> None:
    sign_in(client, pi_a.email, pi_a.password)
    home = client.get("/", follow_redirects=False)
    assert (home.status_code, home.headers["location"]) == (303, "/terms")
    page = client.get("/terms").text
    assert "2026-11" in page and "https://ocx.example.org/terms" in page
    assert client.post("/terms", data={"version": "2026-11"}).status_code == 403  # CSRF
    _accept(client, "2026-11")
    assert client.get("/", follow_redirects=False).status_code == 200
    assert "You have accepted this version." in client.get("/terms").text
    events = client.get("/api/v1/audit?action=user.terms.accept",
                        headers=world["operator"].headers).json()["items"]
    assert [e["changes"]["version"] for e in events if e["actor"] == pi_a.email] == ["2026-11"]


def test_new_terms_are_asked_again(client: TestClient, pi_a: Account) -> None:
    sign_in(client, pi_a.email, pi_a.password)
    _accept(client, "2026-11")
    client.app.state.web.settings = client.app.state.web.settings.model_copy(  # type: ignore[attr-defined]
        update={"terms_version": "2027-01"})
    assert client.get("/", follow_redirects=False).headers["location"] == "/terms"
    _accept(client, "2026-11")  # a page of the old terms accepts nothing new
    assert "have changed" in client.get("/terms").text
    _accept(client, "2027-01")
    assert client.get("/", follow_redirects=False).status_code == 200


def test_terms_page_needs_a_sign_in(client: TestClient) -> None:
    assert client.get("/terms", follow_redirects=False).headers["location"] == "/login"
