"""Onboarding tables: invitations, join requests, PI eligibility, project requests and each
organization's onboarding policy."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ocx.domain.identity.models import Organization, Project, ProjectRole, User
from ocx.domain.identity.onboarding_states import EligibilitySource, RequestState
from ocx.persistence.base import Base, IdMixin, TimestampMixin, str_enum

__all__ = ["Invitation", "JoinRequest", "OnboardingPolicy", "PiEligibility", "ProjectRequest"]


class Decided:
    """Columns of a request that an approver decides: pending, then approved or denied."""

    state: Mapped[RequestState] = mapped_column(
        str_enum(RequestState, "request_state"), default=RequestState.PENDING, index=True)
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    note: Mapped[str] = mapped_column(Text, default="")


class Invitation(IdMixin, TimestampMixin, Base):
    """A single-use, expiring link into a project; only the link's SHA-256 digest is kept."""

    __tablename__ = "invitations"

    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    role: Mapped[ProjectRole] = mapped_column(str_enum(ProjectRole, "project_role"))
    membership_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    invited_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)
    accepted_at: Mapped[datetime | None] = mapped_column(default=None)
    accepted_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    project: Mapped[Project] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])


class JoinRequest(Decided, IdMixin, TimestampMixin, Base):
    """A user asks to join a project; its PI or a manager decides."""

    __tablename__ = "join_requests"

    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True)
    message: Mapped[str] = mapped_column(Text, default="")

    project: Mapped[Project] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys="JoinRequest.decided_by_id")


class PiEligibility(Decided, IdMixin, TimestampMixin, Base):
    """Whether a user may lead projects (be a PI) in one organization, and why."""

    __tablename__ = "pi_eligibilities"
    __table_args__ = (UniqueConstraint("user_id", "organization_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    source: Mapped[EligibilitySource] = mapped_column(
        str_enum(EligibilitySource, "eligibility_source"), default=EligibilitySource.REQUEST)
    reason: Mapped[str] = mapped_column(Text, default="")

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    organization: Mapped[Organization] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys="PiEligibility.decided_by_id")


class ProjectRequest(Decided, IdMixin, TimestampMixin, Base):
    """An eligible PI asks for a new project; policy or the organization's admins decide."""

    __tablename__ = "project_requests"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(63))
    description: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    project_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("projects.id", ondelete="SET NULL"), default=None)

    organization: Mapped[Organization] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys="ProjectRequest.decided_by_id")


class OnboardingPolicy(IdMixin, TimestampMixin, Base):
    """How an organization onboards: which affiliations make a PI, and self-service projects."""

    __tablename__ = "onboarding_policies"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), unique=True)
    # Scoped affiliations (eduPersonScopedAffiliation) that make someone PI-eligible.
    pi_affiliations: Mapped[list[Any]] = mapped_column(JSON, default=list)
    self_service_projects: Mapped[bool] = mapped_column(default=False)
