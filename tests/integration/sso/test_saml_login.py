"""SAML 2.0 sign-in against a real pysaml2 IdP: signed assertions only, tampering refused."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.integration.sso.conftest import SAML_NAME
from tests.servers.saml import SamlIdp
from tests.support.world import World

pytestmark = pytest.mark.sso
_FIELD = re.compile(r'name="([^"]+)" value="([^"]*)"')
_ACTION = re.compile(r'action="([^"]+)"')


def _posted_response(client: TestClient, idp: SamlIdp, login: str, password: str,
                     sign: str, link: bool = False) -> tuple[str, dict[str, str]]:
    """Start a SAML sign-in and log in at the IdP; the ACS URL and the form it posts."""
    start = client.get(f"/auth/saml/{SAML_NAME}/login" + ("?link=true" if link else ""),
                       follow_redirects=False)
    assert start.status_code == 303, start.text
    with httpx.Client(timeout=10) as browser:
        form = browser.get(start.headers["location"])
        fields = dict(_FIELD.findall(form.text))
        answer = browser.post(f"{idp.url}/login", data={
            **fields, "login": login, "password": password, "sign": sign})
    assert answer.status_code == 200, answer.text
    action = _ACTION.search(answer.text)
    assert action, answer.text
    return action.group(1).replace("&#x2F;", "/"), dict(_FIELD.findall(answer.text))


def saml_login(client: TestClient, idp: SamlIdp, login: str = "alice",
               password: str = "alice-password", sign: str = "yes",
               tamper: Callable[[str], str] | None = None, link: bool = False
               ) -> httpx.Response:
    """A whole SAML sign-in (``link``: linking it to the signed-in account); ``tamper``
    may change the XML on its way back to OCX."""
    acs, fields = _posted_response(client, idp, login, password, sign, link)
    if tamper is not None:
        xml = base64.b64decode(fields["SAMLResponse"]).decode()
        fields["SAMLResponse"] = base64.b64encode(tamper(xml).encode()).decode()
    return client.post(urlsplit(acs).path, data=fields, follow_redirects=False)


def test_sp_metadata_is_published(client: TestClient) -> None:
    metadata = client.get("/auth/saml/metadata")
    assert metadata.status_code == 200
    assert metadata.headers["content-type"].startswith("application/samlmetadata+xml")
    assert 'entityID="http://testserver/auth/saml/metadata"' in metadata.text
    assert f"http://testserver/auth/saml/{SAML_NAME}/acs" in metadata.text


def test_saml_login_creates_the_user_from_the_attributes(
        client: TestClient, world: World, campus_saml_idp: SamlIdp) -> None:
    response = saml_login(client, campus_saml_idp)
    assert response.status_code == 303, response.text
    assert "Signed in as alice@a.example.org with Campus A (SAML)." in client.get("/").text
    users = client.get("/api/v1/users?email=alice@", headers=world["operator"].headers)
    assert [u["name"] for u in users.json()["items"]] == ["Alice Anders"]
    members = client.get("/api/v1/organizations/org-a/members",
                         headers=world["operator"].headers).json()["items"]
    assert "alice@a.example.org" in {m["email"] for m in members}
    client.cookies.clear()
    assert saml_login(client, campus_saml_idp).status_code == 303  # the same user again
    users = client.get("/api/v1/users?email=alice@", headers=world["operator"].headers)
    assert len(users.json()["items"]) == 1


def test_an_unsigned_response_is_rejected(client: TestClient, campus_saml_idp: SamlIdp
                                          ) -> None:
    response = saml_login(client, campus_saml_idp, sign="no")
    assert response.status_code == 401, response.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_tampered_response_is_rejected(client: TestClient, campus_saml_idp: SamlIdp
                                         ) -> None:
    def become_bob(xml: str) -> str:
        assert "alice@a.example.org" in xml
        return xml.replace("alice@a.example.org", "operator@ocx.example.org")

    response = saml_login(client, campus_saml_idp, tamper=become_bob)
    assert response.status_code == 401, response.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_replayed_response_is_rejected(client: TestClient, campus_saml_idp: SamlIdp
                                         ) -> None:
    acs, fields = _posted_response(client, campus_saml_idp, "alice", "alice-password", "yes")
    pending = client.cookies.get("ocx_saml")
    assert client.post(urlsplit(acs).path, data=fields,
                       follow_redirects=False).status_code == 303
    assert client.post(urlsplit(acs).path, data=fields,
                       follow_redirects=False).status_code == 400
    client.cookies.set("ocx_saml", str(pending), path="/auth/saml/")
    replay = client.post(urlsplit(acs).path, data=fields, follow_redirects=False)
    assert replay.status_code in (400, 401)


def test_an_unsolicited_response_is_rejected(app: object, campus_saml_idp: SamlIdp) -> None:
    with TestClient(app) as victim, TestClient(app) as attacker:  # type: ignore[arg-type]
        acs, fields = _posted_response(attacker, campus_saml_idp, "alice", "alice-password",
                                       "yes")
        response = victim.post(urlsplit(acs).path, data=fields, follow_redirects=False)
        assert response.status_code == 400
