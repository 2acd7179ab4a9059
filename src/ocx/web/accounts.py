"""Who is behind a browser: password sign-in and the session's current actor.

Built only from identity services (lookups, password verification, role resolution);
a candidate to move into ``ocx.domain.identity`` next to ``tokens.login``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ocx.domain.actor import Actor
from ocx.domain.audit import service as audit
from ocx.domain.identity import service, tokens
from ocx.domain.identity.models import User
from ocx.domain.identity.passwords import verify_password
from ocx.errors import NotFound, Unauthenticated
from ocx.persistence.base import utcnow
from ocx.web.sessions import BrowserSession, user_fingerprint

MAX_EMAIL = 320
MAX_PASSWORD = 256


def _local_user(db: Session, email: str) -> User | None:
    if "@" not in email or len(email) > MAX_EMAIL:
        return None
    try:
        return service.find_user(db, email.strip())
    except NotFound:
        return None


def sign_in(db: Session, email: str, password: str, request_id: str = "-") -> User:
    """The local account matching ``email`` and ``password``, its sign-in recorded.

    Raises:
        Unauthenticated: wrong email or password, or the account is deactivated.
    """
    user = _local_user(db, email)
    # An over-long password is still hashed (against nothing), so timing tells nothing.
    candidate = password if len(password) <= MAX_PASSWORD else ""
    if not verify_password(user.password_hash if user else None, candidate) or user is None:
        raise Unauthenticated("Wrong email or password.")
    if not user.is_active:
        raise Unauthenticated("This account is deactivated; ask an operator to restore it.")
    user.last_login_at = utcnow()
    actor = tokens.actor_for(db, user, request_id=request_id)
    audit.record(db, actor, "user.login", "user", user.id, changes={"via": "web"})
    return user


def current_actor(db: Session, browser: BrowserSession, request_id: str = "-") -> Actor | None:
    """The signed-in actor, or None if signed out or the session no longer holds."""
    if browser.user_id is None:
        return None
    try:
        user = service.find_user(db, browser.user_id)
    except NotFound:
        return None
    expected = user_fingerprint(str(user.id), user.password_hash, user.session_version)
    if not user.is_active or browser.fingerprint != expected:
        return None
    return tokens.actor_for(db, user, request_id=request_id)
