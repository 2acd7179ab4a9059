"""CSRF protection: every form carries a token bound to the browser session's nonce.

The token is an HMAC of the session nonce under the server's secret key, so a page from
another site can neither read nor compute it; the session cookie is SameSite=Lax on top.
"""

from __future__ import annotations

import hashlib
import hmac

FIELD_NAME = "csrf_token"


class CsrfRejected(Exception):
    """A form post whose CSRF token is missing or does not match the session."""


def token_for(secret_key: str, nonce: str) -> str:
    """The CSRF token forms must send back for the session with ``nonce``."""
    return hmac.new(secret_key.encode(), f"csrf|{nonce}".encode(), hashlib.sha256).hexdigest()


def check(secret_key: str, nonce: str, submitted: str) -> None:
    """Raise CsrfRejected unless ``submitted`` is the token for ``nonce``."""
    expected = token_for(secret_key, nonce)
    if not submitted or not hmac.compare_digest(expected.encode(), submitted.encode()):
        raise CsrfRejected("missing or wrong CSRF token")
