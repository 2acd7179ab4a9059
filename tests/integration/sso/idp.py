"""Drive a login at the test provider over HTTP, as a browser would (no browser needed)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
from fastapi.testclient import TestClient

from tests.servers.oidc import OidcServer

_FORM = re.compile(r'<form[^>]*method="post" action="([^"]+)"[^>]*>(.*?)</form>', re.S)
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
MAX_STEPS = 12


def browse(url: str, login: str, password: str) -> httpx.Response:
    """Act as a person at the provider from ``url``: submit its forms (the login form with
    ``login`` and ``password``, the others as they are) until it sends the browser back
    to OCX (a redirect to testserver, returned) or shows a page without a form (returned)."""
    with httpx.Client(follow_redirects=False, timeout=10) as browser:
        response = browser.get(url)
        logins = 0
        for _ in range(MAX_STEPS):
            if response.is_redirect:
                location = urljoin(str(response.url), response.headers["location"])
                if location.startswith("http://testserver/"):
                    return response
                response = browser.get(location)
                continue
            form = _FORM.search(response.text)
            if form is None:
                return response
            data = dict(_HIDDEN.findall(form.group(2)))
            if "/interaction/" in form.group(1):
                assert logins == 0, f"the provider refused the login: {response.text[:300]}"
                data, logins = {"login": login, "password": password}, 1
            response = browser.post(urljoin(str(response.url), form.group(1)), data=data)
    raise AssertionError("the provider never finished")


def authorize(url: str, login: str, password: str) -> str:
    """Log in at the provider from ``url``; the URL it sends the browser back to (OCX)."""
    response = browse(url, login, password)
    assert response.is_redirect, f"unexpected page at the IdP: {response.text[:500]}"
    return urljoin(str(response.url), response.headers["location"])


def sso_login(client: TestClient, name: str, login: str, password: str, *,
              link: bool = False) -> httpx.Response:
    """Press "sign in with NAME", log in at the provider, and return OCX's callback answer."""
    start = client.get(f"/auth/oidc/{name}/login" + ("?link=true" if link else ""),
                       follow_redirects=False)
    assert start.status_code == 303, start.text
    callback = authorize(start.headers["location"], login, password)
    return client.get(callback, follow_redirects=False)


def fetch_tokens(idp: OidcServer, *, client_id: str, client_secret: str, nonce: str,
                 login: str = "alice", password: str = "alice-password") -> dict[str, Any]:
    """A real token response from the provider for ``client_id`` (a full code flow)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    redirect_uri = "http://testserver/auth/oidc/campus/callback"
    query = urlencode({"response_type": "code", "client_id": client_id, "nonce": nonce,
                       "redirect_uri": redirect_uri, "scope": "openid email profile affiliation",
                       "state": "s", "code_challenge": challenge,
                       "code_challenge_method": "S256"})
    back = authorize(f"{idp.issuer}/auth?{query}", login, password)
    code = parse_qs(urlsplit(back).query)["code"][0]
    response = httpx.post(f"{idp.issuer}/token", auth=(client_id, client_secret), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
        "code_verifier": verifier})
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens
