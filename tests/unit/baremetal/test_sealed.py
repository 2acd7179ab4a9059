"""Sealed secrets: Fernet under a key derived from OCX_SECRET_KEY."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, SecretStr

from ocx.errors import InvalidInput
from ocx.persistence.sealed import (
    MASK,
    Sealer,
    UnsealError,
    derive_key,
    is_sealed,
    mask_fields,
    open_fields,
    seal_fields,
)

KEY = "unit-secret-key-0123456789abcdef"


class BmcSettings(BaseModel):
    address: str
    username: str
    password: SecretStr


def test_a_sealed_value_opens_with_the_same_key_only() -> None:
    token = Sealer(KEY).seal("hunter2")
    assert is_sealed(token) and "hunter2" not in token
    assert Sealer(KEY).unseal(token) == "hunter2"
    with pytest.raises(UnsealError, match="another OCX_SECRET_KEY"):
        Sealer("another-key-0123456789abcdef").unseal(token)


def test_sealing_twice_gives_different_tokens() -> None:
    sealer = Sealer(KEY)
    assert sealer.seal("same") != sealer.seal("same")


def test_a_tampered_token_is_refused() -> None:
    token = Sealer(KEY).seal("hunter2")
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(UnsealError):
        Sealer(KEY).unseal(tampered)
    with pytest.raises(UnsealError, match="not a sealed secret"):
        Sealer(KEY).unseal("plain text")


def test_tokens_of_a_previous_key_still_open() -> None:
    old = Sealer("old-key-0123456789abcdef").seal("kept")
    assert Sealer(KEY, previous=["old-key-0123456789abcdef"]).unseal(old) == "kept"


def test_the_encryption_key_is_derived_not_the_secret_key() -> None:
    assert KEY.encode() not in derive_key(KEY)
    assert derive_key(KEY) != derive_key(KEY, purpose=b"something else")
    assert "0123" not in repr(Sealer(KEY))


def test_driver_settings_keep_secrets_sealed_and_masked() -> None:
    sealer = Sealer(KEY)
    stored = seal_fields(sealer, BmcSettings(address="https://bmc", username="root",
                                             password=SecretStr("hunter2")))
    assert stored["address"] == "https://bmc" and is_sealed(stored["password"])
    assert "hunter2" not in str(stored)
    assert mask_fields(stored) == {"address": "https://bmc", "username": "root",
                                   "password": MASK}
    assert open_fields(sealer, stored, BmcSettings)["password"] == "hunter2"


def test_only_declared_secrets_are_opened_and_lookalikes_are_refused() -> None:
    sealer = Sealer(KEY)
    token = sealer.seal("someone else's secret")
    # A stored non-secret field holding a token is never opened (no decryption oracle)...
    stored = {"address": token, "username": "root", "password": sealer.seal("hunter2")}
    assert open_fields(sealer, stored, BmcSettings)["address"] == token
    # ...and cannot get there through validation in the first place.
    with pytest.raises(InvalidInput, match="address: must not start with"):
        seal_fields(sealer, BmcSettings(address=token, username="root",
                                        password=SecretStr("x")))
