"""Single sign-on meets onboarding: SAML identity linking, PI eligibility from the
institution's affiliation attribute, and redirect URIs built from OCX_PUBLIC_URL."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ocx.api.app import create_app
from ocx.config import Settings
from ocx.runtime import Runtime, build_runtime
from tests.integration.sso.conftest import SAML_NAME
from tests.integration.sso.idp import sso_login
from tests.integration.sso.test_saml_login import saml_login
from tests.servers.saml import SamlIdp
from tests.support.world import World

pytestmark = pytest.mark.sso
API = "/api/v1"


def test_one_person_may_link_a_saml_identity(app: FastAPI, world: World,
                                             campus_saml_idp: SamlIdp) -> None:
    with TestClient(app) as browser:
        assert sso_login(browser, "campus", "alice", "alice-password").status_code == 303
        linked = saml_login(browser, campus_saml_idp, link=True)
        assert linked.status_code == 303, linked.text
        assert "Campus A (SAML) identity is now linked" in browser.get("/").text
    with TestClient(app) as browser:
        assert saml_login(browser, campus_saml_idp).status_code == 303
        assert "Signed in as alice@a.example.org with Campus A (SAML)." in browser.get("/").text
    with TestClient(app) as api:
        users = api.get(f"{API}/users?email=alice@", headers=world["operator"].headers)
        assert len(users.json()["items"]) == 1


def test_a_saml_identity_of_someone_else_cannot_be_linked(app: FastAPI,
                                                          campus_saml_idp: SamlIdp) -> None:
    with TestClient(app) as browser:
        assert saml_login(browser, campus_saml_idp, "bob", "bob-password").status_code == 303
    with TestClient(app) as browser:
        assert sso_login(browser, "campus", "alice", "alice-password").status_code == 303
        linked = saml_login(browser, campus_saml_idp, "bob", "bob-password", link=True)
        assert linked.status_code == 409
        assert "linked to another OCX user" in linked.text


def test_the_home_page_offers_to_link_saml(client: TestClient, world: World) -> None:
    assert sso_login(client, "campus", "alice", "alice-password").status_code == 303
    assert f"/auth/saml/{SAML_NAME}/login?link=true" in client.get("/").text


def test_an_affiliation_makes_a_pi_and_its_loss_unmakes_one(
        client: TestClient, world: World, campus_saml_idp: SamlIdp) -> None:
    operator = world["operator"].headers
    client.put(f"{API}/organizations/org-a/onboarding-policy", headers=operator,
               json={"pi_affiliations": ["faculty@a.example.org"]})
    assert saml_login(client, campus_saml_idp).status_code == 303
    rows = client.get(f"{API}/pi-eligibility", headers=operator).json()["items"]
    assert [(r["email"], r["organization"], r["source"], r["state"]) for r in rows] == [
        ("alice@a.example.org", "org-a", "affiliation", "approved")]
    assert "faculty@a.example.org" in rows[0]["reason"]
    client.put(f"{API}/organizations/org-a/onboarding-policy", headers=operator,
               json={"pi_affiliations": ["staff@a.example.org"]})
    client.cookies.clear()
    assert saml_login(client, campus_saml_idp).status_code == 303
    assert client.get(f"{API}/pi-eligibility", headers=operator).json()["items"] == []


@pytest.fixture
def public_app(settings: Settings, runtime: Runtime) -> FastAPI:
    """The app with OCX_PUBLIC_URL set."""
    public = settings.model_copy(update={"public_url": "https://ocx.example.org"})
    return create_app(runtime=build_runtime(public, engine=runtime.engine))


def test_a_forged_host_cannot_move_the_redirect_uri(public_app: FastAPI) -> None:
    with TestClient(public_app) as browser:
        start = browser.get("/auth/oidc/campus/login", headers={"Host": "evil.example.com"},
                            follow_redirects=False)
        assert start.status_code == 303, start.text
        query = parse_qs(urlsplit(start.headers["location"]).query)
        assert query["redirect_uri"] == ["https://ocx.example.org/auth/oidc/campus/callback"]
        metadata = browser.get("/auth/saml/metadata", headers={"Host": "evil.example.com"})
        assert "https://ocx.example.org/auth/saml/metadata" in metadata.text
        assert "evil.example.com" not in metadata.text


def test_without_a_public_url_the_request_names_the_host(client: TestClient) -> None:
    start = client.get("/auth/oidc/campus/login", follow_redirects=False)
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert query["redirect_uri"] == ["http://testserver/auth/oidc/campus/callback"]
