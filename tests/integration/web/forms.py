"""Helpers to fill in the web UI's forms with the TestClient."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient

from tests.integration.web.conftest import PASSWORD
from tests.support.world import World

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client: TestClient, email: str, password: str) -> httpx.Response:
    """Open the sign-in page and submit it; returns the answer without following it."""
    token = csrf_token(client.get("/login").text)
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token}, follow_redirects=False)


def sign_in_as(client: TestClient, world: World, who: str) -> None:
    """Give ``who`` of the world a password and sign the test browser in as them."""
    person = world[who]
    answer = client.patch("/api/v1/users/me", json={"password": PASSWORD},
                          headers=person.headers)
    assert answer.status_code == 200, answer.text
    client.cookies.clear()  # whoever was signed in before
    assert sign_in(client, person.email, PASSWORD).status_code == 303


def sign_out(client: TestClient) -> httpx.Response:
    """Press "Sign out" on the home page."""
    token = csrf_token(client.get("/").text)
    return client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
