"""Terms of use for API callers: a clear 403 until the current version is accepted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from ocx.api.app import create_app
from ocx.config import Settings
from ocx.runtime import Runtime, build_runtime
from tests.integration.onboarding.helpers import API
from tests.support.world import World, build_world

TERMS_URL = "https://ocx.example.org/terms-2026-11.html"


def _runtime(settings: Settings, engine: Engine, version: str) -> Runtime:
    return build_runtime(settings.model_copy(update={
        "terms_version": version, "terms_url": TERMS_URL}), engine=engine)


def _client(settings: Settings, engine: Engine, version: str) -> TestClient:
    return TestClient(create_app(runtime=_runtime(settings, engine, version)))


@pytest.fixture
def terms_world(settings: Settings, engine: Engine) -> Iterator[tuple[TestClient, World]]:
    """An app whose terms of use are at version 2026-11, and the usual world."""
    runtime = _runtime(settings, engine, "2026-11")
    with TestClient(create_app(runtime=runtime)) as client:
        yield client, build_world(runtime)


def test_api_calls_need_the_current_terms(terms_world: tuple[TestClient, World],
                                          settings: Settings, engine: Engine) -> None:
    client, world = terms_world
    member = world["member_a"].headers
    refused = client.get(f"{API}/projects", headers=member)
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["type"] == "terms_not_accepted"
    assert "version 2026-11" in error["message"] and TERMS_URL in error["message"]
    assert "ocx terms accept" in error["message"]
    assert client.get(f"{API}/me", headers=member).status_code == 200
    assert client.get(f"{API}/tokens", headers=member).status_code == 200
    status = client.get(f"{API}/terms", headers=member).json()
    assert (status["version"], status["url"], status["accepted"]) == ("2026-11", TERMS_URL,
                                                                      False)
    stale = client.post(f"{API}/terms/accept", json={"version": "2026-01"}, headers=member)
    assert stale.status_code == 422
    accepted = client.post(f"{API}/terms/accept", json={"version": "2026-11"}, headers=member)
    assert accepted.json()["accepted"] is True and accepted.json()["accepted_at"]
    assert client.get(f"{API}/projects", headers=member).status_code == 200
    with _client(settings, engine, "2027-01") as changed:
        again = changed.get(f"{API}/projects", headers=member)
        assert again.status_code == 403 and "2027-01" in again.json()["error"]["message"]


def test_without_terms_nothing_is_asked(client: TestClient, world: World) -> None:
    status = client.get(f"{API}/terms", headers=world["member_a"].headers).json()
    assert (status["version"], status["accepted"]) == ("", True)
    assert client.get(f"{API}/projects", headers=world["member_a"].headers).status_code == 200
