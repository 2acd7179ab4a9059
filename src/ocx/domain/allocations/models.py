"""Allocation tables."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ocx.domain.allocations.states import AllocationState, ChangeKind, ChangeState
from ocx.domain.identity.models import Project
from ocx.domain.marketplace.models import Offering, Plan
from ocx.persistence.base import Base, IdMixin, TimestampMixin, str_enum

__all__ = ["Allocation", "AllocationChange", "ChangeKind", "ChangeState"]


LIVE_CONDITION = "state NOT IN ('released', 'denied')"



class Allocation(IdMixin, TimestampMixin, Base):
    """A project's share of an offering: its quota, its time, its tenant on the provider."""

    __tablename__ = "allocations"
    # One live allocation per project and offering, whatever races the service check.
    __table_args__ = (Index("uq_allocations_live", "project_id", "offering_id", unique=True,
                            sqlite_where=text(LIVE_CONDITION),
                            postgresql_where=text(LIVE_CONDITION)),)

    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="RESTRICT"), index=True)
    offering_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("offerings.id", ondelete="RESTRICT"), index=True)
    plan_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("plans.id", ondelete="RESTRICT"), default=None)
    state: Mapped[AllocationState] = mapped_column(
        str_enum(AllocationState, "allocation_state"), index=True)
    quota: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    justification: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    status_message: Mapped[str] = mapped_column(Text, default="")
    # The tenant on the provider, once made.
    external_id: Mapped[str | None] = mapped_column(String(255), default=None)
    # Bumped by every change of desired state; names the operation that applies it.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # What the provider last reported (for "quota below usage" and drift).
    observed: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    observed_at: Mapped[datetime | None] = mapped_column(default=None)

    project: Mapped[Project] = relationship(lazy="joined")
    offering: Mapped[Offering] = relationship(lazy="joined")
    plan: Mapped[Plan | None] = relationship()


class AllocationChange(IdMixin, TimestampMixin, Base):
    """A request to change an allocation's quota or to renew it."""

    __tablename__ = "allocation_changes"

    allocation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("allocations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ChangeKind] = mapped_column(str_enum(ChangeKind, "change_kind"))
    state: Mapped[ChangeState] = mapped_column(str_enum(ChangeState, "change_state"))
    quota: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    ends_at: Mapped[datetime | None] = mapped_column(default=None)
    justification: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    # Approved by the offering's policy rather than by a person.
    automatic: Mapped[bool] = mapped_column(default=False)
    # Why it was decided (or left to the provider) as it was, for the requester to read.
    note: Mapped[str] = mapped_column(Text, default="")

    allocation: Mapped[Allocation] = relationship()
