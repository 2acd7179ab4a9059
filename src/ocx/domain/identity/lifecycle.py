"""Membership lifecycle jobs that run without a request: expiry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ocx.domain.actor import SYSTEM
from ocx.domain.audit import service as audit
from ocx.domain.identity.models import Membership, OrgMembership
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
