"""Fixtures for the web UI: a world person who can sign in with a password."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from tests.support.world import World

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Account:
    """Email and password of a local account."""

    email: str
    password: str


@pytest.fixture
def pi_a(client: TestClient, world: World) -> Account:
    """The PI of org-a's project, with a password set through the API."""
    person = world["pi_a"]
    response = client.patch("/api/v1/users/me", json={"password": PASSWORD},
                            headers=person.headers)
    assert response.status_code == 200, response.text
    return Account(person.email, PASSWORD)
