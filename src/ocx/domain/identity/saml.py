"""SAML 2.0 service provider (pysaml2 + xmlsec1): SP metadata, the redirect-binding
AuthnRequest, and the POST-binding response, whose assertions must be signed by the IdP
named in the imported metadata.

OCX's entity ID is ``BASE/auth/saml/metadata``; each IdP has its own assertion
consumer service, ``BASE/auth/saml/{name}/acs``. The request id travels in the browser's
signed session cookie, so a response answers only the request this browser made, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string

from ocx.config import SamlProviderSettings, Settings
from ocx.domain.identity.oidc import FederatedClaims
from ocx.errors import NotFound, Unauthenticated

EPPN = "eduPersonPrincipalName"
NAMEID_PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"


@dataclass(frozen=True)
class SamlRequest:
    """Where to send the browser, and the request id the response must answer."""

    url: str
    request_id: str


def _first(identity: dict[str, list[str]], name: str) -> str:
    values = identity.get(name) or []
    return str(values[0]).strip() if values else ""


class SamlProviders:
    """The service provider for one base URL, with every configured IdP."""

    def __init__(self, settings: Settings, base_url: str) -> None:
        self._settings = settings
        self.base_url = base_url.rstrip("/")
        self._by_name = {p.name: p for p in settings.saml_providers}
        self._built: Saml2Client | None = None

    @property
    def _client(self) -> Saml2Client:
        # Built on first use: publishing OCX's own metadata needs no IdP metadata yet.
        if self._built is None:
            self._built = Saml2Client(config=self._config())
        return self._built

    @property
    def entity_id(self) -> str:
        """OCX's SAML entity ID."""
        return f"{self.base_url}/auth/saml/metadata"

    def acs_url(self, name: str) -> str:
        """Where IdP ``name`` posts its responses."""
        return f"{self.base_url}/auth/saml/{name}/acs"

    def _config(self, with_idps: bool = True) -> SPConfig:
        """pysaml2's SP configuration; without the IdPs' metadata for OCX's own metadata."""
        settings = self._settings
        acs = [(self.acs_url(name), BINDING_HTTP_POST) for name in self._by_name]
        idps = [str(p.metadata_file) for p in settings.saml_providers] if with_idps else []
        config: dict[str, Any] = {
            "entityid": self.entity_id, "xmlsec_binary": settings.xmlsec_binary,
            "allow_unknown_attributes": True, "metadata": {"local": idps},
            "service": {"sp": {
                "endpoints": {"assertion_consumer_service": acs},
                "want_assertions_signed": True, "want_response_signed": False,
                "want_assertions_or_response_signed": True, "allow_unsolicited": False,
                "authn_requests_signed": False, "name_id_format": NAMEID_PERSISTENT}},
            "accepted_time_diff": settings.sso_clock_skew_s}
        if settings.saml_sp_key_file and settings.saml_sp_cert_file:
            config.update(key_file=str(settings.saml_sp_key_file),
                          cert_file=str(settings.saml_sp_cert_file),
                          encryption_keypairs=[{"key_file": str(settings.saml_sp_key_file),
                                                "cert_file": str(settings.saml_sp_cert_file)}])
        sp_config = SPConfig()
        sp_config.load(config)
        return sp_config

    def provider(self, name: str) -> SamlProviderSettings:
        """The IdP named ``name``. Raises NotFound."""
        if name not in self._by_name:
            raise NotFound(f"no identity provider named {name}")
        return self._by_name[name]

    def metadata(self) -> str:
        """OCX's SP metadata XML, for the federation or the IdP's administrators."""
        metadata: bytes = create_metadata_string(None, config=self._config(with_idps=False),
                                                 valid=24 * 7)
        return metadata.decode()

    def start(self, name: str, relay_state: str) -> SamlRequest:
        """An AuthnRequest to IdP ``name`` (redirect binding)."""
        provider = self.provider(name)
        request_id, info = self._client.prepare_for_authenticate(
            entityid=provider.entity_id, relay_state=relay_state,
            binding=BINDING_HTTP_REDIRECT, assertion_consumer_service_url=self.acs_url(name))
        return SamlRequest(url=str(dict(info["headers"])["Location"]),
                           request_id=str(request_id))

    def finish(self, name: str, saml_response: str, request_id: str) -> FederatedClaims:
        """The claims of a signed response to request ``request_id`` from IdP ``name``.

        Raises:
            Unauthenticated: unsigned, tampered, expired, unsolicited, or from another IdP.
        """
        provider = self.provider(name)
        try:
            response = self._client.parse_authn_request_response(
                saml_response, BINDING_HTTP_POST, outstanding={request_id: self.acs_url(name)})
        except Exception as exc:  # pysaml2 raises dozens of unrelated exception types
            raise Unauthenticated(f"the SAML response from {name} is not valid: "
                                  f"{type(exc).__name__}") from exc
        if response is None or response.issuer() != provider.entity_id:
            raise Unauthenticated(f"the SAML response is not from {name}")
        return self._claims(provider, response.issuer(), response.get_identity(),
                            response.get_subject().text)

    @staticmethod
    def _claims(provider: SamlProviderSettings, issuer: str,
                identity: dict[str, list[str]], name_id: str) -> FederatedClaims:
        # eduPersonPrincipalName is the stable, federation-wide subject; the NameID is a
        # fallback for IdPs that release no ePPN.
        subject = _first(identity, EPPN) or name_id
        email = _first(identity, "mail").lower()
        return FederatedClaims(
            provider=provider.name, issuer=issuer, subject=subject, email=email,
            email_verified=bool(email), name=_first(identity, "displayName"),
            affiliations=tuple(identity.get("eduPersonScopedAffiliation") or ()))
