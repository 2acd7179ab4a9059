"""OCX_PUBLIC_URL: required in production, and only an http(s) base URL."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ocx.config import Environment, Settings

SECRET = "a-production-secret-key-0123"


def test_production_needs_a_public_url() -> None:
    with pytest.raises(ValidationError, match="OCX_PUBLIC_URL"):
        Settings(environment=Environment.PRODUCTION, secret_key=SECRET)
    settings = Settings(environment=Environment.PRODUCTION, secret_key=SECRET,
                        public_url="https://ocx.example.org")
    assert settings.public_url == "https://ocx.example.org"


@pytest.mark.parametrize("bad", ["ocx.example.org", "javascript:alert(1)",
                                 "https://ocx.example.org/?next=x", "https://a b"])
def test_a_public_url_is_a_plain_base_url(bad: str) -> None:
    with pytest.raises(ValidationError, match="public_url"):
        Settings(public_url=bad)
