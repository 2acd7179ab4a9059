"""Password hashing for local accounts (argon2id)."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()  # stateless parameters object, safe to share


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so timing does not reveal accounts."""
    return _HASHER.hash("ocx-no-such-user-dummy-password")


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; takes the same time for a missing account."""
    try:
        matches = _HASHER.verify(password_hash or _dummy_hash(), password)
        return matches and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
