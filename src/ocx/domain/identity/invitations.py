"""Invitations: single-use, expiring links into a project.

A project's PI or manager (or the organization's admins) invites an email address with
a role. The link's secret is stored only as its SHA-256 digest; it travels to the
notifier sealed (Fernet, under ``OCX_SECRET_KEY``) in the journalled operation, so a
retried delivery can send it again and nothing readable rests in the database. The
link is accepted once, before it expires, by the signed-in user whose email is the
invited address: a forwarded or leaked link is worth nothing to anyone else.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from ocx.domain import policy
from ocx.domain.actor import Actor
from ocx.domain.audit import service as audit
from ocx.domain.identity import service, tokens
from ocx.domain.identity.models import Membership, User
from ocx.domain.identity.onboarding_models import Invitation
from ocx.domain.identity.onboarding_schemas import InvitationCreate
from ocx.domain.identity.onboarding_states import InvitationState
from ocx.domain.operations import service as operations
from ocx.domain.operations.handlers import HandlerContext, OperationRef
from ocx.domain.policy import Action
from ocx.drivers.notifier import Notification
from ocx.errors import Conflict, Forbidden, InvalidInput, NotFound
from ocx.persistence.base import utcnow
from ocx.persistence.pagination import Page, paginate
from ocx.persistence.sealed import Sealer

SEND = "notify.invitation"
TOKEN_PREFIX = "ocxinv_"
ACCEPT_PATH = "/invitations/"


def state_of(row: Invitation) -> InvitationState:
    """Where an invitation stands now."""
    if row.accepted_at is not None:
        return InvitationState.ACCEPTED
    if row.revoked_at is not None:
        return InvitationState.REVOKED
    if row.expires_at <= utcnow():
        return InvitationState.EXPIRED
    return InvitationState.PENDING


def _live(session: Session, project_id: uuid.UUID, email: str) -> Invitation | None:
    return session.scalar(select(Invitation).where(
        Invitation.project_id == project_id, Invitation.email == email,
        Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None),
        Invitation.expires_at > utcnow()))


def _check_not_member(session: Session, project_id: uuid.UUID, email: str) -> None:
    member = session.scalar(select(Membership.id).join(User, User.id == Membership.user_id)
                            .where(Membership.project_id == project_id, User.email == email,
                                   or_(Membership.expires_at.is_(None),
                                       Membership.expires_at > utcnow())))
    if member is not None:
        raise Conflict(f"{email} is already a member of this project")


def create(session: Session, actor: Actor, project_ref: str, body: InvitationCreate,
           sealer: Sealer, public_url: str) -> Invitation:
    """Invite an email address into a project; the link goes out through the notifier.

    Raises:
        Forbidden: a manager inviting a PI.
        Conflict: already a member, or a live invitation for that address exists.
    """
    project = service.find_project(session, project_ref, actor)
    target = service.project_target(project)
    policy.authorize(actor, Action.INVITATION_CREATE, target)
    policy.authorize_grant(actor, target, body.role)
    email = body.email.lower()
    if body.membership_expires_at is not None and body.membership_expires_at <= utcnow():
        raise InvalidInput("membership_expires_at must be in the future")
    _check_not_member(session, project.id, email)
    if _live(session, project.id, email) is not None:
        raise Conflict(f"{email} already has a pending invitation to {project.name}; "
                       "revoke it first to send a new one")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = Invitation(project_id=project.id, email=email, role=body.role,
                     membership_expires_at=body.membership_expires_at,
                     digest=tokens.digest(secret), invited_by_id=actor.user_id,
                     expires_at=utcnow() + timedelta(days=body.expires_in_days))
    session.add(row)
    session.flush()
    audit.record(session, actor, "invitation.create", "invitation", row.id,
                 organization_id=project.organization_id,
                 changes={"project": project.name, "email": email, "role": body.role,
                          "expires_at": row.expires_at})
    link = f"{public_url.rstrip('/')}{ACCEPT_PATH}{secret}"
    operations.enqueue(session, actor, kind=SEND, target=("invitation", row.id),
                       idempotency_key=f"{SEND}:{row.id}",
                       payload={"email": email, "link": sealer.seal(link)})
    return row


def list_for_project(session: Session, actor: Actor, project_ref: str, *,
                     cursor: str | None, limit: int) -> Page[Invitation]:
    """A project's invitations, in every state."""
    project = service.find_project(session, project_ref, actor)
    policy.authorize(actor, Action.INVITATION_LIST, service.project_target(project))
    stmt = (select(Invitation).options(joinedload(Invitation.invited_by))
            .where(Invitation.project_id == project.id))
    return paginate(session, stmt, Invitation, cursor=cursor, limit=limit)


def revoke(session: Session, actor: Actor, project_ref: str,
           invitation_id: uuid.UUID) -> Invitation:
    """Revoke a pending invitation: its link stops working at once.

    Raises:
        Conflict: it was accepted already.
    """
    project = service.find_project(session, project_ref, actor)
    target = service.project_target(project)
    policy.authorize(actor, Action.INVITATION_REVOKE, target)
    row = session.get(Invitation, invitation_id)
    if row is None or row.project_id != project.id:
        raise NotFound("invitation not found")
    policy.authorize_grant(actor, target, row.role)
    if row.accepted_at is not None:
        raise Conflict("this invitation was accepted already; remove the member instead")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(session, actor, "invitation.revoke", "invitation", row.id,
                     organization_id=project.organization_id,
                     changes={"project": project.name, "email": row.email})
    return row


def _masked(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def _usable(session: Session, token: str) -> Invitation:
    """The invitation behind a link's secret, if it can still be used.

    Raises:
        NotFound: no such link. Conflict: used, revoked or expired.
    """
    row = session.scalar(select(Invitation).where(Invitation.digest == tokens.digest(token)))
    if row is None:
        raise NotFound("invitation not found: the link is wrong or incomplete")
    state = state_of(row)
    if state is InvitationState.ACCEPTED:
        raise Conflict("this invitation was already used; each link works once")
    if state is InvitationState.REVOKED:
        raise Conflict("this invitation was revoked; ask the project's PI for a new one")
    if state is InvitationState.EXPIRED:
        raise Conflict(f"this invitation expired at {row.expires_at:%Y-%m-%d %H:%M} UTC; "
                       "ask the project's PI for a new one")
    return row


def accept(session: Session, actor: Actor, token: str) -> Membership:
    """Accept an invitation as the signed-in user it was sent to; they join the project.

    Raises:
        NotFound, Conflict: see ``_usable``; Conflict also if already a member.
        Forbidden: the signed-in user is not the invited address.
    """
    policy.authorize(actor, Action.INVITATION_ACCEPT)
    row = _usable(session, token)
    if actor.user_id is None:
        raise InvalidInput("only users can accept invitations")
    user = service.find_user(session, actor.user_id)
    if user.email.lower() != row.email:
        raise Forbidden(f"this invitation is for {_masked(row.email)}; sign in with that "
                        "address to accept it")
    membership = service.enrol(session, actor, row.project, user, row.role,
                               row.membership_expires_at, via="invitation")
    row.accepted_at, row.accepted_by_id = utcnow(), user.id
    audit.record(session, actor, "invitation.accept", "invitation", row.id,
                 organization_id=row.project.organization_id,
                 changes={"project": row.project.name, "email": user.email,
                          "role": row.role})
    return membership


def send_invitation(ctx: HandlerContext, op: OperationRef) -> dict[str, Any]:
    """Mail the invitation link (unless it was revoked, used or expired meanwhile)."""
    with ctx.sessions() as session:
        row = session.get(Invitation, uuid.UUID(op.target_id))
        if row is None or state_of(row) is not InvitationState.PENDING:
            return {"skipped": "the invitation is no longer pending"}
        project = f"{row.project.organization.name}/{row.project.name}"
        inviter = row.invited_by.name or row.invited_by.email if row.invited_by else "OCX"
        link = ctx.sealer.unseal(str(op.payload["link"]))
        notification = Notification(
            recipient=row.email,
            subject=f"You are invited to the OCX project {project}",
            body=(f"Hello,\n\n{inviter} invites you to the project {project} on OCX as a "
                  f"{row.role.value}.\n\nSign in to OCX with this address ({row.email}) and "
                  f"open\n\n  {link}\n\nor run `ocx invitation accept "
                  f"{link.rpartition('/')[2]}`.\nThe link works once, until "
                  f"{row.expires_at:%Y-%m-%d %H:%M} UTC.\n"),
            idempotency_key=op.idempotency_key)
    ctx.notifier.send(notification)
    return {"recipient": notification.recipient, "project": project}
