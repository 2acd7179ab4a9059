"""Pieces of single sign-on that need no provider: settings, pending logins, claims, cookies."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ocx.config import Settings
from ocx.domain.identity.oidc import OidcProviders, PendingLogin, claims_from
from ocx.errors import NotFound
from ocx.web.sessions import user_fingerprint

PROVIDERS = ('[{"name": "campus", "issuer": "https://idp.a.example.org", "client_id": "ocx",'
             ' "client_secret": "s3cret-value", "email_domains": {"a.example.org": "org-a"}}]')


def test_providers_come_from_a_json_environment_variable(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    monkeypatch.setenv("OCX_OIDC_PROVIDERS", PROVIDERS)
    settings = Settings()
    (campus,) = settings.oidc_providers
    assert campus.email_domains == {"a.example.org": "org-a"}
    assert "s3cret-value" not in repr(settings)
    assert campus.client_secret.get_secret_value() == "s3cret-value"
    assert OidcProviders(settings).get("campus").name == "campus"
    with pytest.raises(NotFound):
        OidcProviders(settings).get("elsewhere")


def test_a_provider_name_must_fit_in_a_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCX_OIDC_PROVIDERS", PROVIDERS.replace('"campus"', '"Campus A/1"'))
    with pytest.raises(ValidationError):
        Settings()


def test_a_pending_login_survives_the_cookie_round_trip() -> None:
    pending = PendingLogin("campus", "state", "nonce", "verifier")
    assert PendingLogin.from_dict(pending.as_dict()) == pending
    with pytest.raises(KeyError):
        PendingLogin.from_dict({"p": "campus"})


def test_claims_are_normalized() -> None:
    claims = claims_from("campus", {"iss": "https://idp", "sub": "42",
                                    "email": " Alice@A.Example.org ", "email_verified": "true",
                                    "eduperson_scoped_affiliation": "faculty@a.example.org"})
    assert claims.email == "alice@a.example.org"
    assert claims.email_verified is False  # only a JSON true counts
    assert claims.affiliations == ("faculty@a.example.org",)
    assert claims.groups == ()


def test_the_session_fingerprint_changes_with_the_session_version() -> None:
    assert user_fingerprint("u", "h", 0) != user_fingerprint("u", "h", 1)
    assert user_fingerprint("u", "h", 1) == user_fingerprint("u", "h", 1)
