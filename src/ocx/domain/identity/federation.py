"""Federated sign-in: from an identity provider's claims to an OCX user.

The first sign-in creates the user and places them in an organization (the provider's,
or the one that owns their email domain). Later sign-ins find the user by the
provider's (issuer, subject) pair, never by email, so a renamed address changes
nothing and a second provider cannot take an account over. A signed-in user may link
another provider's account to their own.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ocx.domain.audit import service as audit
from ocx.domain.identity import eligibility, tokens
from ocx.domain.identity.federation_models import ConsumedLogin, ExternalIdentity
from ocx.domain.identity.models import ApiToken, Organization, OrgMembership, OrgRole, User
from ocx.domain.identity.oidc import FederatedClaims
from ocx.errors import Conflict, Unauthenticated
from ocx.persistence.base import utcnow


class IdentityProvider(Protocol):
    """What federation needs of a configured provider, OIDC or SAML."""

    @property
    def name(self) -> str:
        """The provider's short name."""

    @property
    def organization(self) -> str | None:
        """The organization every new user of this provider joins, if any."""

    @property
    def email_domains(self) -> dict[str, str]:
        """Email domain -> the organization new users with that domain join."""


def _organization_for(session: Session, config: IdentityProvider,
                      email: str) -> Organization | None:
    domain = email.rpartition("@")[2]
    name = config.email_domains.get(domain) or config.organization
    if name is None:
        return None
    return session.scalar(select(Organization).where(Organization.name == name.lower()))


def _identity(session: Session, claims: FederatedClaims) -> ExternalIdentity | None:
    return session.scalar(select(ExternalIdentity).where(
        ExternalIdentity.issuer == claims.issuer, ExternalIdentity.subject == claims.subject))


def _new_user(session: Session, config: IdentityProvider, claims: FederatedClaims) -> User:
    """Create the user of a first sign-in, affiliated with their organization."""
    if not claims.email or not claims.email_verified:
        raise Unauthenticated(f"{config.name} did not vouch for an email address; "
                              "ask your institution to release a verified email")
    if session.scalar(select(User.id).where(User.email == claims.email)) is not None:
        # Taking over an existing account by email would let any IdP claim anyone.
        raise Conflict(f"an account for {claims.email} exists already: sign in to it and "
                       f"link your {config.name} identity from there")
    user = User(email=claims.email, name=claims.name)
    session.add(user)
    session.flush()
    org = _organization_for(session, config, claims.email)
    if org is not None:
        session.add(OrgMembership(organization_id=org.id, user_id=user.id, role=OrgRole.MEMBER))
    actor = tokens.actor_for(session, user)
    audit.record(session, actor, "user.create", "user", user.id,
                 organization_id=org.id if org else None,
                 changes={"email": user.email, "name": user.name, "via": config.name,
                          "organization": org.name if org else None,
                          "affiliations": list(claims.affiliations)})
    return user


def _link(session: Session, user: User, claims: FederatedClaims) -> ExternalIdentity:
    identity = ExternalIdentity(user_id=user.id, provider=claims.provider, issuer=claims.issuer,
                                subject=claims.subject, email=claims.email)
    session.add(identity)
    session.flush()
    audit.record(session, tokens.actor_for(session, user), "user.identity.link",
                 "external_identity", identity.id,
                 changes={"provider": claims.provider, "issuer": claims.issuer,
                          "subject": claims.subject})
    return identity


def sign_in(session: Session, config: IdentityProvider, claims: FederatedClaims,
            request_id: str = "-") -> User:
    """The user behind validated ``claims``, created on their first sign-in.

    Raises:
        Unauthenticated: the account is deactivated, or no verified email on first sign-in.
        Conflict: a first sign-in with the email of an existing, unlinked account.
    """
    identity = _identity(session, claims)
    user = identity.user if identity else _new_user(session, config, claims)
    if identity is None:
        identity = _link(session, user, claims)
    if not user.is_active:
        raise Unauthenticated("This account is deactivated; ask an operator to restore it.")
    user.last_login_at = identity.last_login_at = utcnow()
    actor = tokens.actor_for(session, user, request_id=request_id)
    audit.record(session, actor, "user.login", "user", user.id,
                 changes={"via": config.name, "subject": claims.subject})
    eligibility.sync_affiliations(session, actor, user, claims.affiliations, config.name)
    return user


def link(session: Session, user: User, claims: FederatedClaims) -> ExternalIdentity:
    """Attach another provider's account to a signed-in user.

    Raises:
        Conflict: that account already belongs to another user.
    """
    identity = _identity(session, claims)
    if identity is not None and identity.user_id != user.id:
        raise Conflict(f"this {claims.provider} account is linked to another OCX user")
    return identity or _link(session, user, claims)


def identities_of(session: Session, user: User) -> list[ExternalIdentity]:
    """The provider accounts linked to a user, oldest first."""
    return list(session.scalars(select(ExternalIdentity).where(
        ExternalIdentity.user_id == user.id).order_by(ExternalIdentity.created_at)))


def issue_cli_token(session: Session, config: IdentityProvider, claims: FederatedClaims,
                    token_name: str, ttl_days: int, request_id: str = "-"
                    ) -> tuple[ApiToken, str]:
    """Sign in with validated claims (device flow) and issue an API token for the CLI.

    Raises:
        Unauthenticated, Conflict: as :func:`sign_in`.
    """
    user = sign_in(session, config, claims, request_id)
    token, secret = tokens.issue(session, user, token_name, ttl_days)
    audit.record(session, tokens.actor_for(session, user, request_id=request_id),
                 "token.create", "token", token.id,
                 changes={"name": token_name, "via": f"{config.name} device login"})
    return token, secret


def consume(session: Session, key: str, ttl: timedelta) -> None:
    """Mark a sign-in request (``key``) as answered; old marks are swept on the way.

    Raises:
        Unauthenticated: it was answered before (a replay).
    """
    now = utcnow()
    session.execute(delete(ConsumedLogin).where(ConsumedLogin.expires_at <= now))
    session.add(ConsumedLogin(key=key, expires_at=now + ttl))
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Unauthenticated("this sign-in response was already used") from exc
