"""Onboarding rows as the API shows them (shared by the onboarding route modules)."""

from __future__ import annotations

from typing import Any

from ocx.domain.identity import invitations
from ocx.domain.identity.onboarding_models import (
    Invitation,
    JoinRequest,
    PiEligibility,
    ProjectRequest,
)
from ocx.domain.identity.onboarding_schemas import (
    InvitationPublic,
    JoinRequestPublic,
    PiEligibilityPublic,
    ProjectRequestPublic,
)


def _decided(row: JoinRequest | PiEligibility | ProjectRequest) -> dict[str, Any]:
    return {"state": row.state, "decided_by": row.decided_by.email if row.decided_by else None,
            "decided_at": row.decided_at, "note": row.note}


def invitation_view(row: Invitation) -> InvitationPublic:
    """An invitation, never its link."""
    return InvitationPublic(
        id=row.id, project_id=row.project_id,
        project=f"{row.project.organization.name}:{row.project.name}", email=row.email,
        role=row.role, membership_expires_at=row.membership_expires_at,
        expires_at=row.expires_at, state=invitations.state_of(row),
        invited_by=row.invited_by.email if row.invited_by else None,
        accepted_at=row.accepted_at, revoked_at=row.revoked_at, created_at=row.created_at)


def join_request_view(row: JoinRequest) -> JoinRequestPublic:
    """A join request."""
    return JoinRequestPublic(
        id=row.id, project_id=row.project_id,
        project=f"{row.project.organization.name}:{row.project.name}", email=row.user.email,
        message=row.message, created_at=row.created_at, **_decided(row))


def eligibility_view(row: PiEligibility) -> PiEligibilityPublic:
    """A PI eligibility record (or request)."""
    return PiEligibilityPublic(
        id=row.id, organization=row.organization.name, email=row.user.email,
        source=row.source, reason=row.reason, created_at=row.created_at, **_decided(row))


def project_request_view(row: ProjectRequest) -> ProjectRequestPublic:
    """A project-creation request."""
    return ProjectRequestPublic(
        id=row.id, organization=row.organization.name, name=row.name,
        description=row.description, reason=row.reason,
        requested_by=row.requested_by.email, project_id=row.project_id,
        created_at=row.created_at, **_decided(row))
