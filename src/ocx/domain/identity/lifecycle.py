"""The user lifecycle: membership expiry, deactivation ("removed from everything") and
the hook through which an ended membership's provider access is removed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ocx.domain.actor import SYSTEM, Actor
from ocx.domain.audit import service as audit
from ocx.domain.identity import tokens
from ocx.domain.identity.models import Membership, OrgMembership, User
from ocx.persistence.base import utcnow

BATCH = 500  # per run: keeps each transaction short; the next run takes the rest


def expire_memberships(session: Session, now: datetime | None = None) -> int:
    """End project and organization memberships whose ``expires_at`` has passed; audit each."""
    now = now or utcnow()
    ended = 0
    for row in session.scalars(select(Membership).where(Membership.expires_at <= now)
                               .limit(BATCH)).all():
        audit.record(session, SYSTEM, "member.expire", "membership", row.id,
                     organization_id=row.project.organization_id,
                     changes={"project": row.project.name, "email": row.user.email,
                              "role": row.role, "expires_at": row.expires_at})
        on_membership_ended(session, SYSTEM, row)
        session.delete(row)
        ended += 1
    for org_row in session.scalars(select(OrgMembership).where(OrgMembership.expires_at <= now)
                                   .limit(BATCH)).all():
        audit.record(session, SYSTEM, "organization.member.expire", "org_membership",
                     org_row.id, organization_id=org_row.organization_id,
                     changes={"email": org_row.user.email, "role": org_row.role,
                              "expires_at": org_row.expires_at})
        session.delete(org_row)
        ended += 1
    return ended


def on_membership_ended(session: Session, actor: Actor, membership: Membership) -> None:
    """A project membership is ending: remove the member's access on the project's providers.

    The one hook point for deprovisioning: the project's allocations are re-applied
    through the operations journal, after this transaction commits and the membership
    is gone, so the member loses access and their credentials on every provider.
    """
    from ocx.domain.allocations.reconciler import members_changed  # allocations use identity

    audit.record(session, actor, "member.deprovision", "membership", membership.id,
                 organization_id=membership.project.organization_id,
                 changes={"project": membership.project.name, "email": membership.user.email})
    members_changed(session, actor, membership.project_id)


def deactivate(session: Session, actor: Actor, user: User) -> None:
    """Remove a deactivated user from every project and organization (each audited),
    revoke their tokens and end their web sessions. Reactivation restores none of it."""
    for row in session.scalars(select(Membership).where(Membership.user_id == user.id)).all():
        audit.record(session, actor, "member.remove", "membership", row.id,
                     organization_id=row.project.organization_id,
                     changes={"project": row.project.name, "email": user.email,
                              "role": row.role, "reason": "deactivated"})
        on_membership_ended(session, actor, row)
        session.delete(row)
    for org_row in session.scalars(select(OrgMembership).where(
            OrgMembership.user_id == user.id)).all():
        audit.record(session, actor, "organization.member.remove", "org_membership",
                     org_row.id, organization_id=org_row.organization_id,
                     changes={"email": user.email, "role": org_row.role,
                              "reason": "deactivated"})
        session.delete(org_row)
    tokens.revoke_all(session, actor, user.id)
    end_web_sessions(session, actor, user)
    from ocx.domain.identity.eligibility import forget_user  # it uses the identity service

    forget_user(session, actor, user)


def end_web_sessions(session: Session, actor: Actor, user: User) -> None:
    """Sign a user out of every browser at once (their cookies stop matching)."""
    user.session_version += 1
    audit.record(session, actor, "user.sessions.end", "user", user.id,
                 changes={"session_version": user.session_version})
