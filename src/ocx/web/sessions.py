"""Browser sessions: a signed, HttpOnly cookie that carries who is signed in.

A web session is not an API token. The cookie holds a random nonce (which the CSRF
token is bound to), the user id, a fingerprint of the user's password hash and session
version (so a password change, a deactivation or "sign out everywhere" ends every
session: the fingerprint no longer matches), the sign-in time and, during a single
sign-on, the pending login's state, nonce and PKCE verifier; all signed with the
server's secret key. Signing out replaces the cookie.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ocx.config import Settings

COOKIE_NAME = "ocx_session"
SALT = "ocx.web.session.v1"


def user_fingerprint(user_id: str, password_hash: str | None, session_version: int = 0) -> str:
    """A short digest that changes whenever the user's password or session version does."""
    material = f"{user_id}|{password_hash or ''}|{session_version}"
    return hashlib.sha256(material.encode()).hexdigest()[:16]


@dataclass
class BrowserSession:
    """What one browser's cookie says; ``changed`` means it must be written back."""

    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    user_id: str | None = None
    fingerprint: str = ""
    signed_in_at: float = 0.0
    flashes: list[tuple[str, str]] = field(default_factory=list)
    sso: dict[str, str] = field(default_factory=dict)  # a single sign-on under way
    changed: bool = True

    def flash(self, category: str, message: str) -> None:
        """Queue a message for the next page shown (category: info, success, error)."""
        self.flashes.append((category, message))
        self.changed = True

    def pop_flashes(self) -> list[tuple[str, str]]:
        """The queued messages, removed from the session."""
        flashes, self.flashes = self.flashes, []
        self.changed = self.changed or bool(flashes)
        return flashes


class SessionCodec:
    """Reads and writes :class:`BrowserSession` cookies for one server's settings."""

    def __init__(self, settings: Settings) -> None:
        self._serializer = URLSafeTimedSerializer(settings.secret_key.get_secret_value(), SALT)
        self.ttl_s = settings.web_session_ttl_hours * 3600
        self.secure = settings.cookie_secure

    def load(self, request: Request) -> BrowserSession:
        """The request's session, or a new anonymous one if absent, forged or expired."""
        raw = request.cookies.get(COOKIE_NAME)
        if not raw:
            return BrowserSession()
        try:
            data: dict[str, Any] = self._serializer.loads(raw, max_age=self.ttl_s)
            session = BrowserSession(
                nonce=str(data["n"]), user_id=data.get("u"), fingerprint=str(data.get("v", "")),
                signed_in_at=float(data.get("t", 0)),
                flashes=[(str(c), str(m)) for c, m in data.get("f", [])],
                sso={str(k): str(v) for k, v in (data.get("s") or {}).items()}, changed=False)
        except (BadSignature, KeyError, TypeError, ValueError):
            return BrowserSession()
        if session.user_id and time.time() - session.signed_in_at > self.ttl_s:
            session = BrowserSession()
            session.flash("info", "Your session has expired; please sign in again.")
        return session

    def save(self, response: Response, session: BrowserSession) -> None:
        """Write the session cookie onto ``response`` if the session changed."""
        if not session.changed:
            return
        payload = {"n": session.nonce, "u": session.user_id, "v": session.fingerprint,
                   "t": session.signed_in_at, "f": session.flashes, "s": session.sso}
        response.set_cookie(COOKIE_NAME, self._serializer.dumps(payload), max_age=self.ttl_s,
                            path="/", secure=self.secure, httponly=True, samesite="lax")


def signed_in(user_id: str, password_hash: str | None, session_version: int) -> BrowserSession:
    """A new session for a user who just proved who they are (with a new nonce)."""
    return BrowserSession(user_id=user_id, signed_in_at=time.time(),
                          fingerprint=user_fingerprint(user_id, password_hash, session_version))
