"""ID token validation with real tokens from a real provider: every forgery is refused."""

from __future__ import annotations

import base64
import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from ocx.domain.identity.oidc import OidcProvider
from ocx.errors import Unauthenticated
from tests.integration.sso.conftest import provider_settings
from tests.integration.sso.idp import fetch_tokens
from tests.servers.oidc import OidcServer

pytestmark = pytest.mark.sso
NONCE = "nonce-of-this-login"


@pytest.fixture(scope="module")
def provider(campus_idp: OidcServer) -> OidcProvider:
    """OCX's view of the campus provider (the ``ocx`` client)."""
    return OidcProvider(provider_settings("campus", campus_idp), timeout_s=10, skew_s=60)


@pytest.fixture(scope="module")
def id_token(campus_idp: OidcServer) -> str:
    """A genuine ID token for OCX, bound to NONCE."""
    return str(fetch_tokens(campus_idp, client_id=campus_idp.client_id,
                            client_secret=campus_idp.client_secret, nonce=NONCE)["id_token"])


def _payload(token: str) -> dict[str, object]:
    part = token.split(".")[1]
    data: dict[str, object] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return data


def test_a_genuine_token_is_accepted(provider: OidcProvider, id_token: str) -> None:
    claims = provider.validate_id_token(id_token, NONCE)
    assert (claims.subject, claims.email, claims.email_verified) == (
        "alice", "alice@a.example.org", True)
    assert claims.affiliations == ("faculty@a.example.org",)


def test_a_tampered_token_is_rejected(provider: OidcProvider, id_token: str) -> None:
    header, _, signature = id_token.split(".")
    claims = {**_payload(id_token), "email": "operator@ocx.example.org"}
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(Unauthenticated, match="not valid"):
        provider.validate_id_token(f"{header}.{body}.{signature}", NONCE)


def test_a_token_signed_by_another_key_is_rejected(provider: OidcProvider, id_token: str
                                                    ) -> None:
    forged = jwt.encode({"alg": "RS256", "kid": "test-key"}, _payload(id_token),
                        RSAKey.generate_key(2048))
    with pytest.raises(Unauthenticated):
        provider.validate_id_token(forged, NONCE)


def test_an_unsigned_token_is_rejected(provider: OidcProvider, id_token: str) -> None:
    header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    body = id_token.split(".")[1]
    with pytest.raises(Unauthenticated):
        provider.validate_id_token(f"{header}.{body}.", NONCE)


def test_an_expired_token_is_rejected(provider: OidcProvider, id_token: str) -> None:
    expires = int(str(_payload(id_token)["exp"]))
    assert provider.validate_id_token(id_token, NONCE, now=expires + 30)  # within the skew
    with pytest.raises(Unauthenticated, match="expired"):
        provider.validate_id_token(id_token, NONCE, now=expires + 61)


def test_a_token_issued_in_the_future_is_rejected(provider: OidcProvider, id_token: str
                                                  ) -> None:
    with pytest.raises(Unauthenticated):
        provider.validate_id_token(id_token, NONCE, now=int(time.time()) - 3600)


def test_a_token_for_another_client_is_rejected(provider: OidcProvider,
                                                campus_idp: OidcServer) -> None:
    other = fetch_tokens(campus_idp, client_id=campus_idp.other_client_id,
                         client_secret=campus_idp.other_client_secret, nonce=NONCE)
    with pytest.raises(Unauthenticated, match="aud"):
        provider.validate_id_token(str(other["id_token"]), NONCE)


def test_a_token_from_another_login_is_rejected(provider: OidcProvider, id_token: str
                                                ) -> None:
    # A replayed token carries the nonce of the login it came from, not of this one.
    with pytest.raises(Unauthenticated, match="nonce"):
        provider.validate_id_token(id_token, "nonce-of-a-new-login")


def test_a_token_from_another_issuer_is_rejected(campus_idp: OidcServer,
                                                 partner_idp: OidcServer) -> None:
    partner = OidcProvider(provider_settings("partner", partner_idp), timeout_s=10, skew_s=60)
    token = fetch_tokens(campus_idp, client_id=campus_idp.client_id,
                         client_secret=campus_idp.client_secret, nonce=NONCE)["id_token"]
    with pytest.raises(Unauthenticated):
        partner.validate_id_token(str(token), NONCE)
