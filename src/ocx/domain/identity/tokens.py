"""API tokens and authentication: who is calling, from a bearer token or a password."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ocx.domain import policy
from ocx.domain.actor import Actor
from ocx.domain.audit import service as audit
from ocx.domain.identity.models import ApiToken, Membership, OrgMembership, Project, User
from ocx.domain.identity.passwords import verify_password
from ocx.domain.identity.schemas import TokenCreate
from ocx.domain.policy import Action, Target
from ocx.errors import InvalidInput, NotFound, Unauthenticated
from ocx.persistence.base import utcnow
from ocx.persistence.pagination import Page, paginate

TOKEN_PREFIX = "ocx_"


def digest(token: str) -> str:
    """SHA-256 of a token: tokens are 256 random bits, so a fast hash is safe to store."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue(session: Session, user: User, name: str, ttl_days: int,
          not_after: datetime | None = None) -> tuple[ApiToken, str]:
    """Create a token for ``user`` (expiring no later than ``not_after``); the secret is
    returned once and never stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(days=ttl_days)
    if not_after is not None:
        expires_at = min(expires_at, not_after)
    token = ApiToken(
        user_id=user.id, name=name, digest=digest(secret), prefix=secret[:10],
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return token, secret


def actor_for(session: Session, user: User, *, token_id: uuid.UUID | None = None,
              request_id: str = "-") -> Actor:
    """Resolve a user's current (unexpired) roles into an Actor."""
    now = utcnow()
    org_roles = {
        m.organization_id: m.role
        for m in session.scalars(select(OrgMembership).where(OrgMembership.user_id == user.id))
        if m.expires_at is None or m.expires_at > now
    }
    rows = session.execute(
        select(Membership, Project.organization_id)
        .join(Project, Project.id == Membership.project_id)
        .where(Membership.user_id == user.id)
    ).all()
    live = [(m, org) for m, org in rows if m.expires_at is None or m.expires_at > now]
    return Actor(
        user_id=user.id, email=user.email, is_operator=user.is_operator,
        org_roles=org_roles,
        project_roles={m.project_id: m.role for m, _ in live},
        project_orgs={m.project_id: org for m, org in live},
        token_id=token_id, request_id=request_id,
    )


def authenticate(session: Session, bearer: str | None, request_id: str = "-") -> Actor:
    """The actor behind a bearer token.

    Raises:
        Unauthenticated: no token, or it is unknown, expired, revoked, or its user inactive.
    """
    if not bearer:
        raise Unauthenticated("authentication required: send 'Authorization: Bearer <token>'")
    token = session.scalar(select(ApiToken).where(ApiToken.digest == digest(bearer)))
    now = utcnow()
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        raise Unauthenticated("invalid, expired or revoked token")
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        raise Unauthenticated("this account is deactivated")
    # Recording use at most once a minute keeps reads from turning into writes.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
    return actor_for(session, user, token_id=token.id, request_id=request_id)


def login(session: Session, email: str, password: str, token_name: str, ttl_days: int,
          request_id: str = "-") -> tuple[ApiToken, str]:
    """Exchange a local account's password for a new API token.

    Raises:
        Unauthenticated: wrong email or password, or the account is deactivated.
    """
    user = session.scalar(select(User).where(User.email == email.lower()))
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise Unauthenticated("wrong email or password")
    if not user.is_active:
        raise Unauthenticated("this account is deactivated")
    user.last_login_at = utcnow()
    token, secret = issue(session, user, token_name, ttl_days)
    actor = actor_for(session, user, request_id=request_id)
    audit.record(session, actor, "token.create", "token", token.id,
                 changes={"name": token_name, "via": "password login"})
    return token, secret


def create(session: Session, actor: Actor, body: TokenCreate, default_ttl_days: int,
           max_ttl_days: int) -> tuple[ApiToken, str]:
    """A new token for the actor themself, never outliving the token that asks for it."""
    policy.authorize(actor, Action.TOKEN_CREATE)
    user = session.get(User, actor.user_id) if actor.user_id else None
    if user is None:
        raise InvalidInput("only users can hold tokens")
    days = body.expires_in_days or default_ttl_days
    if days > max_ttl_days:
        raise InvalidInput(f"expires_in_days: this server allows at most {max_ttl_days} days")
    parent = session.get(ApiToken, actor.token_id) if actor.token_id else None
    token, secret = issue(session, user, body.name, days,
                          not_after=parent.expires_at if parent else None)
    audit.record(session, actor, "token.create", "token", token.id,
                 changes={"name": token.name, "expires_at": token.expires_at})
    return token, secret


def list_own(session: Session, actor: Actor, *, cursor: str | None, limit: int
             ) -> Page[ApiToken]:
    """The actor's own tokens (never their secrets)."""
    policy.authorize(actor, Action.TOKEN_LIST)
    stmt = select(ApiToken).where(ApiToken.user_id == actor.user_id)
    return paginate(session, stmt, ApiToken, cursor=cursor, limit=limit)


def revoke(session: Session, actor: Actor, token_id: uuid.UUID) -> ApiToken:
    """Revoke a token: one's own, or any as an operator. Revoking twice is harmless."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("token not found")
    policy.authorize(actor, Action.TOKEN_REVOKE, Target(owner_id=token.user_id))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(session, actor, "token.revoke", "token", token.id,
                     changes={"name": token.name})
    return token


def revoke_all(session: Session, actor: Actor, user_id: uuid.UUID,
               keep: uuid.UUID | None = None) -> int:
    """Revoke every live token of a user but ``keep`` (deactivation, new password)."""
    now = utcnow()
    tokens = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None),
                               ApiToken.id != keep if keep else ApiToken.id.is_not(None)))
    count = 0
    for token in tokens:
        token.revoked_at = now
        count += 1
    if count:
        audit.record(session, actor, "token.revoke_all", "user", user_id,
                     changes={"revoked": count})
    return count
