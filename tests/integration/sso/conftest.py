"""Two real OpenID Connect providers (two institutions) and an app configured for both."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ocx.config import Environment, OidcProviderSettings, SamlProviderSettings, Settings
from ocx.domain.identity.saml import SamlProviders
from tests.servers.oidc import OidcServer, oidc_server
from tests.servers.saml import SamlIdp, saml_idp

pytestmark = pytest.mark.sso

CALLBACK = "http://testserver/auth/oidc/{name}/callback"
SAML_NAME = "campus-saml"


@pytest.fixture(scope="session")
def campus_idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcServer]:
    """Institution A's provider (users go to an organization by email domain)."""
    with oidc_server(CALLBACK.format(name="campus"), tmp_path_factory.mktemp("campus")) as idp:
        yield idp


@pytest.fixture(scope="session")
def partner_idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcServer]:
    """Institution B's provider (every user goes to org-b)."""
    with oidc_server(CALLBACK.format(name="partner"), tmp_path_factory.mktemp("partner")) as idp:
        yield idp


@pytest.fixture(scope="session")
def campus_saml_idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SamlIdp]:
    """Institution A's SAML IdP, trusting OCX's SP metadata (as served at testserver)."""
    placeholder = SamlProviderSettings(name=SAML_NAME, metadata_file="unused", entity_id="-")
    ocx = Settings(environment=Environment.TEST, secret_key="x" * 32,
                   saml_providers=[placeholder])
    sp_metadata = SamlProviders(ocx, "http://testserver").metadata()
    with saml_idp(sp_metadata, tmp_path_factory.mktemp("saml-idp")) as idp:
        yield idp


def provider_settings(name: str, idp: OidcServer, **extra: object) -> OidcProviderSettings:
    """The OCX settings entry for a test provider."""
    return OidcProviderSettings.model_validate({
        "name": name, "issuer": idp.issuer, "client_id": idp.client_id,
        "client_secret": idp.client_secret, **extra})


@pytest.fixture
def settings(settings: Settings, campus_idp: OidcServer, partner_idp: OidcServer,
             campus_saml_idp: SamlIdp) -> Settings:
    """The test settings with the institutions' OIDC and SAML providers configured."""
    saml = SamlProviderSettings(name=SAML_NAME, display_name="Campus A (SAML)",
                                metadata_file=campus_saml_idp.metadata_file,
                                entity_id=campus_saml_idp.entity_id,
                                email_domains={"a.example.org": "org-a"})
    return settings.model_copy(update={"saml_providers": [saml], "oidc_providers": [
        provider_settings("campus", campus_idp, display_name="Campus A",
                          email_domains={"a.example.org": "org-a"}),
        provider_settings("partner", partner_idp, display_name="Partner B",
                          organization="org-b"),
    ]})
