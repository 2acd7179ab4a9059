"""Secrets sealed at rest: Fernet, with a key derived from ``OCX_SECRET_KEY`` by HKDF.

A BMC password, a provider credential or any other driver secret is stored only as a
sealed token: ``sealed:v1:`` followed by a Fernet token (AES-128-CBC with an
HMAC-SHA256 over it), so a tampered or foreign token is refused, never decrypted to
garbage. The Fernet key is not the secret key itself but HKDF-SHA256 of it with a
purpose label, so the ``OCX_SECRET_KEY`` that signs web sessions never doubles as an
encryption key.

Every process of one installation shares ``OCX_SECRET_KEY``, so what an API process
seals a worker unseals (the runtime builds one :class:`Sealer`). Changing the key makes
sealed values unreadable: pass the old key in ``previous`` while re-sealing them.

Driver settings keep their secret fields (``SecretStr``) sealed inside the JSON that
is stored (:func:`seal_fields`), opened only to build the driver (:func:`open_fields`)
and shown to people masked (:func:`mask_fields`).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from typing import Any, get_args

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import BaseModel, SecretStr

from ocx.errors import InvalidInput, OcxError

PREFIX = "sealed:v1:"
MASK = "***"
PURPOSE = b"ocx sealed secrets v1"
# A fixed, public salt: the input is already a high-entropy secret (RFC 5869, 3.1).
SALT = b"ocx.persistence.sealed"


class UnsealError(OcxError):
    """A sealed value cannot be opened: altered, or sealed under another key."""

    status = 500
    type = "sealed_secret_unreadable"


def derive_key(secret_key: str, purpose: bytes = PURPOSE) -> bytes:
    """The Fernet key (url-safe base64 of 32 bytes) derived from ``secret_key``."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=SALT, info=purpose)
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode()))


def _plain(secret: str | SecretStr) -> str:
    return secret.get_secret_value() if isinstance(secret, SecretStr) else secret


def is_sealed(value: object) -> bool:
    """Whether ``value`` is a token made by :meth:`Sealer.seal`."""
    return isinstance(value, str) and value.startswith(PREFIX)


class Sealer:
    """Seals and unseals text with the installation's key (and reads older keys' tokens)."""

    def __init__(self, secret_key: str | SecretStr,
                 previous: Iterable[str | SecretStr] = ()) -> None:
        keys = [Fernet(derive_key(_plain(key))) for key in (secret_key, *previous)]
        self._fernet = MultiFernet(keys)

    def __repr__(self) -> str:
        return "Sealer(***)"

    def seal(self, plaintext: str) -> str:
        """A token that only this installation's key opens."""
        return PREFIX + self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def unseal(self, token: str) -> str:
        """The text sealed in ``token``.

        Raises:
            UnsealError: the token is not sealed, was altered, or was sealed under an
                unknown key.
        """
        if not is_sealed(token):
            raise UnsealError("the value is not a sealed secret")
        try:
            return self._fernet.decrypt(token.removeprefix(PREFIX).encode("ascii")).decode()
        except (InvalidToken, UnicodeError) as exc:
            raise UnsealError("a sealed secret cannot be opened: it was altered, or sealed "
                              "under another OCX_SECRET_KEY") from exc


def secret_names(model: type[BaseModel]) -> frozenset[str]:
    """The fields of a settings model declared as secrets (``SecretStr``)."""
    return frozenset(name for name, field in model.model_fields.items()
                     if SecretStr in (field.annotation, *get_args(field.annotation)))


def seal_fields(sealer: Sealer, settings: BaseModel) -> dict[str, Any]:
    """Validated driver settings as the JSON to store: every ``SecretStr`` field sealed.

    Raises:
        InvalidInput: a non-secret field holds something shaped like a sealed value (it
            could later be opened and shown: a way to decrypt other secrets).
    """
    stored: dict[str, Any] = settings.model_dump(mode="json")
    secrets = secret_names(type(settings))
    for name, value in settings:
        if name in secrets and isinstance(value, SecretStr):
            stored[name] = sealer.seal(value.get_secret_value())
        elif is_sealed(value):
            raise InvalidInput(f"{name}: must not start with {PREFIX!r}")
    return stored


def open_fields(sealer: Sealer, stored: Mapping[str, Any],
                model: type[BaseModel]) -> dict[str, Any]:
    """Stored settings as the driver takes them: only ``model``'s secret fields opened.

    Raises:
        UnsealError: a sealed field cannot be opened.
    """
    secrets = secret_names(model)
    return {key: sealer.unseal(value) if key in secrets and is_sealed(value) else value
            for key, value in stored.items()}


def mask_fields(stored: Mapping[str, Any]) -> dict[str, Any]:
    """Stored settings as people may see them: every sealed field replaced by the mask."""
    return {key: MASK if is_sealed(value) else value for key, value in stored.items()}
