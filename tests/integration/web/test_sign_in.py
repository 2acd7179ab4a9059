"""Signing in and out of the web UI, the session cookie and CSRF protection."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer

from ocx.api.app import create_app
from ocx.runtime import Runtime, build_runtime
from ocx.web.sessions import SALT
from tests.integration.web.conftest import PASSWORD, Account
from tests.integration.web.forms import csrf_token, sign_in, sign_out
from tests.support.world import World


def test_signed_out_home_redirects_to_sign_in(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"


def test_sign_in_page_sets_a_protected_session_cookie(client: TestClient) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    assert 'name="password"' in response.text
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("ocx_session=")
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie  # tests serve plain http (cookie_secure=False)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_cookie_is_secure_when_configured(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(update={"cookie_secure": True})
    with TestClient(create_app(runtime=build_runtime(settings, runtime.engine))) as client:
        assert "secure" in client.get("/login").headers["set-cookie"].lower()


def test_wrong_password_shows_the_form_again_with_401(client: TestClient, pi_a: Account
                                                      ) -> None:
    response = sign_in(client, pi_a.email, "not the password")
    assert response.status_code == 401
    assert "Wrong email or password." in response.text
    assert f'value="{pi_a.email}"' in response.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_unknown_email_and_bad_input_are_401_not_500(client: TestClient) -> None:
    for email, password in [("nobody@example.org", PASSWORD), ("", ""),
                            ("no-at-sign", "x"), ("a@b.example.org", "x" * 5000)]:
        response = sign_in(client, email, password)
        assert response.status_code == 401, (email, response.text)
        assert "Wrong email or password." in response.text


def test_right_password_signs_in_and_goes_home(client: TestClient, pi_a: Account) -> None:
    response = sign_in(client, pi_a.email, pi_a.password)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert f"Signed in as {pi_a.email}." in home.text
    assert client.get("/login", follow_redirects=False).headers["location"] == "/"


def test_form_without_csrf_token_is_refused_with_403_page(client: TestClient, pi_a: Account
                                                          ) -> None:
    client.get("/login")
    response = client.post("/login", data={"email": pi_a.email, "password": pi_a.password})
    assert response.status_code == 403
    assert "text/html" in response.headers["content-type"]
    assert "Form expired" in response.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_csrf_token_of_another_browser_is_refused(app: FastAPI, pi_a: Account) -> None:
    with TestClient(app) as mallory, TestClient(app) as victim:
        token = csrf_token(mallory.get("/login").text)
        victim.get("/login")
        response = victim.post("/login", data={"email": pi_a.email, "password": pi_a.password,
                                                "csrf_token": token})
        assert response.status_code == 403


def test_sign_out_needs_csrf_and_then_ends_the_session(client: TestClient, pi_a: Account
                                                       ) -> None:
    sign_in(client, pi_a.email, pi_a.password)
    assert client.post("/logout", data={}).status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 200
    response = sign_out(client)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert client.get("/", follow_redirects=False).status_code == 303
    assert "You have signed out." in client.get("/login").text


def test_password_change_ends_web_sessions(client: TestClient, world: World, pi_a: Account
                                           ) -> None:
    sign_in(client, pi_a.email, pi_a.password)
    changed = client.patch(f"/api/v1/users/{pi_a.email}", headers=world["operator"].headers,
                           json={"password": "another long password"})
    assert changed.status_code == 200
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert "Your session has ended" in client.get("/login").text


def test_forged_cookie_counts_as_signed_out(client: TestClient, pi_a: Account) -> None:
    sign_in(client, pi_a.email, pi_a.password)
    _, payload = URLSafeTimedSerializer("any", SALT).loads_unsafe(client.cookies["ocx_session"])
    assert payload["u"]  # the real cookie names the user; re-sign it with another key
    forged = URLSafeTimedSerializer("not-the-server-secret-key", SALT).dumps(payload)
    client.cookies.clear()
    client.cookies.set("ocx_session", forged)
    assert client.get("/", follow_redirects=False).status_code == 303
