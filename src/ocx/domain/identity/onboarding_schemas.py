"""API shapes for onboarding: terms, invitations, join requests, PI eligibility, project
requests and organizations' onboarding policies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import EmailStr, Field, StringConstraints

from ocx.domain.identity.onboarding_states import (
    EligibilitySource,
    InvitationState,
    RequestState,
)
from ocx.domain.identity.roles import ProjectRole
from ocx.domain.identity.schemas import (
    EXPIRY_HELP,
    LongText,
    Public,
    Slug,
    Strict,
    UtcDatetime,
)

OrgName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
                    Field(description="organization id or name")]
Affiliation = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True,
                                               min_length=3, max_length=255,
                                               pattern=r"^[A-Za-z-]+@[A-Za-z0-9.-]+$")]


# --- terms of use -----------------------------------------------------------------------

class TermsAccept(Strict):
    version: str = Field(min_length=1, max_length=64,
                         description="the version you read (GET /terms); must be current")


class TermsStatus(Public):
    version: str = Field(description="the terms in force; empty when there are none")
    url: str = Field(description="where the terms are published")
    accepted: bool = Field(description="whether you accepted this version")
    accepted_at: datetime | None = None


# --- invitations ------------------------------------------------------------------------

class InvitationCreate(Strict):
    email: EmailStr
    role: ProjectRole = ProjectRole.MEMBER
    membership_expires_at: UtcDatetime | None = Field(default=None, description=EXPIRY_HELP)
    expires_in_days: int = Field(default=7, ge=1, le=30,
                                 description="how long the link may be used")


class InvitationAccept(Strict):
    token: str = Field(min_length=10, max_length=200, description="the secret in the link")


class InvitationPublic(Public):
    id: uuid.UUID
    project_id: uuid.UUID
    project: str
    email: str
    role: ProjectRole
    membership_expires_at: datetime | None
    expires_at: datetime
    state: InvitationState
    invited_by: str | None
    accepted_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime


# --- decisions (join requests, PI eligibility, project requests) -------------------------

class Decision(Strict):
    approve: bool = Field(description="true approves, false denies")
    note: LongText = Field(default="", description="why; shown to the requester")


class JoinDecision(Decision):
    role: ProjectRole = Field(default=ProjectRole.MEMBER, description="the role, if approved")
    expires_at: UtcDatetime | None = Field(default=None, description=EXPIRY_HELP)


class DecidedPublic(Public):
    state: RequestState
    decided_by: str | None
    decided_at: datetime | None
    note: str
    created_at: datetime


class JoinRequestCreate(Strict):
    message: LongText = Field(default="", description="who you are, why you want to join")


class JoinRequestPublic(DecidedPublic):
    id: uuid.UUID
    project_id: uuid.UUID
    project: str
    email: str
    message: str


class PiEligibilityCreate(Strict):
    organization: OrgName
    reason: LongText = Field(default="", description="your position, what you will lead")


class PiEligibilityPublic(DecidedPublic):
    id: uuid.UUID
    organization: str
    email: str
    source: EligibilitySource
    reason: str


class ProjectRequestCreate(Strict):
    organization: OrgName
    name: Slug
    description: LongText = ""
    reason: LongText = Field(default="", description="what the project is for")


class ProjectRequestPublic(DecidedPublic):
    id: uuid.UUID
    organization: str
    name: str
    description: str
    reason: str
    requested_by: str
    project_id: uuid.UUID | None


# --- an organization's onboarding policy -------------------------------------------------

class OnboardingPolicyUpdate(Strict):
    pi_affiliations: list[Affiliation] = Field(
        default_factory=list, max_length=50,
        description="scoped affiliations that make a PI, e.g. faculty@campus.example.org")
    self_service_projects: bool = Field(
        default=False, description="approve eligible PIs' project requests automatically")


class OnboardingPolicyPublic(Public):
    organization: str
    pi_affiliations: list[str]
    self_service_projects: bool


