"""SCIM 2.0 provisioning (RFC 7643/7644) for an institution's identity system.

An operator gives an organization a SCIM token; its provisioning client then creates
users (placed in that organization), finds them by ``userName`` (the email), and
deactivates them (``PATCH active=false`` or ``DELETE``), which runs the same lifecycle as
an operator's deactivation: removed from every project and organization, tokens
revoked, web sessions ended. A client sees only the users it provisions or that belong
to its organization; it can never take over another organization's user.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from ocx.domain import policy
from ocx.domain.actor import Actor
from ocx.domain.audit import service as audit
from ocx.domain.identity import lifecycle, service, tokens
from ocx.domain.identity.models import Organization, OrgMembership, OrgRole, User
from ocx.domain.identity.scim_models import ScimLink, ScimToken
from ocx.domain.policy import Action, Target
from ocx.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from ocx.persistence.base import utcnow

RowT = TypeVar("RowT")
SCIM_TOKEN_PREFIX = "ocxscim_"
_FILTER = re.compile(r'^\s*userName\s+eq\s+"([^"]{1,320})"\s*$', re.IGNORECASE)


@dataclass(frozen=True)
class ScimClient:
    """An authenticated provisioning client: the organization it speaks for."""

    organization: Organization
    actor: Actor


@dataclass(frozen=True)
class ScimUserInput:
    """What a SCIM client may set on a user."""

    user_name: str
    name: str = ""
    external_id: str | None = None
    active: bool = True


# --- tokens (operators) -----------------------------------------------------------------

def create_token(session: Session, actor: Actor, org_ref: str, name: str
                 ) -> tuple[ScimToken, str]:
    """A new SCIM token for an organization's provisioning client; the secret is shown once."""
    org = service.find_org(session, org_ref)
    policy.authorize(actor, Action.SCIM_TOKEN_CREATE, Target(org_id=org.id))
    secret = SCIM_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ScimToken(organization_id=org.id, name=name, digest=tokens.digest(secret),
                      prefix=secret[:14])
    session.add(token)
    session.flush()
    audit.record(session, actor, "scim_token.create", "scim_token", token.id,
                 organization_id=org.id, changes={"name": name, "prefix": token.prefix})
    return token, secret


def list_tokens(session: Session, actor: Actor, org_ref: str) -> list[ScimToken]:
    """An organization's SCIM tokens (never their secrets)."""
    org = service.find_org(session, org_ref)
    policy.authorize(actor, Action.SCIM_TOKEN_LIST, Target(org_id=org.id))
    return list(session.scalars(select(ScimToken).where(ScimToken.organization_id == org.id)
                                .order_by(ScimToken.created_at)))


def revoke_token(session: Session, actor: Actor, org_ref: str, token_id: uuid.UUID
                 ) -> ScimToken:
    """Revoke one of an organization's SCIM tokens (revoking twice is harmless)."""
    org = service.find_org(session, org_ref)
    policy.authorize(actor, Action.SCIM_TOKEN_REVOKE, Target(org_id=org.id))
    token = session.get(ScimToken, token_id)
    if token is None or token.organization_id != org.id:
        raise NotFound("SCIM token not found")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(session, actor, "scim_token.revoke", "scim_token", token.id,
                     organization_id=org.id, changes={"name": token.name})
    return token


def authenticate(session: Session, bearer: str | None, request_id: str = "-") -> ScimClient:
    """The provisioning client behind a SCIM bearer token.

    Raises:
        Unauthenticated: no token, an unknown or revoked one (API tokens are not SCIM tokens).
    """
    token = session.scalar(select(ScimToken).where(
        ScimToken.digest == tokens.digest(bearer))) if bearer else None
    if token is None or token.revoked_at is not None:
        raise Unauthenticated("a valid SCIM token is required")
    token.last_used_at = utcnow()
    org = token.organization
    return ScimClient(org, Actor(user_id=None, email=f"scim:{org.name}", request_id=request_id))


# --- users --------------------------------------------------------------------------------

def _visible(client: ScimClient) -> ColumnElement[bool]:
    """Users the client provisions or whose organization it speaks for."""
    org_id = client.organization.id
    return or_(User.id.in_(select(ScimLink.user_id).where(ScimLink.organization_id == org_id)),
               User.id.in_(select(OrgMembership.user_id).where(
                   OrgMembership.organization_id == org_id)))


def _link(session: Session, client: ScimClient, user: User) -> ScimLink:
    link = session.scalar(select(ScimLink).where(
        ScimLink.organization_id == client.organization.id, ScimLink.user_id == user.id))
    if link is None:
        link = ScimLink(organization_id=client.organization.id, user_id=user.id)
        session.add(link)
        session.flush()
    return link


def get_user(session: Session, client: ScimClient, user_id: str) -> tuple[User, ScimLink]:
    """A user the client may see, by OCX id. Raises NotFound."""
    try:
        wanted = uuid.UUID(user_id)
    except ValueError:
        raise NotFound("user not found") from None
    user = session.scalar(select(User).where(User.id == wanted, _visible(client)))
    if user is None:
        raise NotFound("user not found")
    return user, _link(session, client, user)


def list_users(session: Session, client: ScimClient, filter_: str | None, start: int,
               count: int) -> tuple[int, list[tuple[User, ScimLink]]]:
    """The client's users (``userName eq "..."`` is the one filter), one page of them."""
    stmt = select(User).where(_visible(client))
    if filter_:
        stmt = stmt.where(User.email == equality_filter(_FILTER, filter_, "userName", "EMAIL"))
    total, users = page(session, stmt, start, count, User.created_at, User.id)
    return total, [(user, _link(session, client, user)) for user in users]


def equality_filter(pattern: re.Pattern[str], filter_: str, attribute: str, example: str
                    ) -> str:
    """The value of the one SCIM filter supported (``ATTRIBUTE eq "VALUE"``), lower-cased.

    Raises:
        InvalidInput: any other filter.
    """
    match = pattern.match(filter_)
    if match is None:
        raise InvalidInput(f'only the filter {attribute} eq "{example}" is supported')
    return match.group(1).lower()


def page(session: Session, stmt: Select[RowT], start: int, count: int,
         *order: ColumnElement[Any] | InstrumentedAttribute[Any]) -> tuple[int, list[RowT]]:
    """The total number of rows and one page of them (SCIM's 1-based ``startIndex``)."""
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    return total, list(session.scalars(stmt.order_by(*order).offset(start - 1).limit(count)))


def create_user(session: Session, client: ScimClient, body: ScimUserInput
                ) -> tuple[User, ScimLink]:
    """Provision a user in the client's organization.

    Raises:
        Conflict: the user exists (already provisioned, or held by another organization).
    """
    email = body.user_name.strip().lower()
    if "@" not in email:
        raise InvalidInput("userName must be the user's email address")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"a user named {email} exists already")
    user = User(email=email, name=body.name, is_active=body.active)
    session.add(user)
    session.flush()
    session.add(OrgMembership(organization_id=client.organization.id, user_id=user.id,
                              role=OrgRole.MEMBER))
    link = ScimLink(organization_id=client.organization.id, user_id=user.id,
                    external_id=body.external_id)
    session.add(link)
    session.flush()
    audit.record(session, client.actor, "user.create", "user", user.id,
                 organization_id=client.organization.id,
                 changes={"email": email, "name": body.name, "via": "scim"})
    return user, link


def set_active(session: Session, client: ScimClient, user: User, active: bool) -> None:
    """(De)activate a user for the institution; deactivation runs the whole lifecycle."""
    if active == user.is_active:
        return
    if not active:
        lifecycle.deactivate(session, client.actor, user)
    user.is_active = active
    audit.record(session, client.actor, "user.update", "user", user.id,
                 organization_id=client.organization.id,
                 changes={"is_active": active, "via": "scim"})


def delete_user(session: Session, client: ScimClient, user: User, link: ScimLink) -> None:
    """The institution is done with a user: deactivate them and forget the link.

    The OCX account itself stays (the audit trail and bills refer to it).
    """
    set_active(session, client, user, False)
    session.delete(link)
    audit.record(session, client.actor, "scim.user.delete", "user", user.id,
                 organization_id=client.organization.id, changes={"email": user.email})
