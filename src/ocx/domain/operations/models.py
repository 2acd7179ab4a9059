"""The operations journal and the periodic-job slots."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ocx.domain.operations.states import OperationState
from ocx.persistence.base import Base, IdMixin, TimestampMixin, str_enum, utcnow

__all__ = ["Operation", "OperationState", "PeriodicRun"]


class Operation(IdMixin, TimestampMixin, Base):
    """One call to an outside system, its attempts and its outcome.

    The database row is the truth; a task-queue message only carries the id to wake a
    worker. ``payload`` never holds secrets: handlers load what they need by target id.
    """

    __tablename__ = "operations"
    __table_args__ = (Index("ix_operations_state_next_attempt_at", "state", "next_attempt_at"),)

    kind: Mapped[str] = mapped_column(String(100), index=True)
    target_type: Mapped[str] = mapped_column(String(50))
    target_id: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[OperationState] = mapped_column(
        str_enum(OperationState, "operation_state"),
        default=OperationState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int]
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    requested_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True, default=None)
    request_id: Mapped[str] = mapped_column(String(64), default="-")
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(200), default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class PeriodicRun(Base):
    """The last time slot in which a periodic job ran, one row per job.

    Every worker's scheduler fires every periodic job; the one whose compare-and-set
    moves ``last_slot`` forward runs it, the others skip. One row per job keeps the
    table from growing.
    """

    __tablename__ = "periodic_runs"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_slot: Mapped[int] = mapped_column(BigInteger, default=0)
    ran_at: Mapped[datetime | None] = mapped_column(default=None)
    ran_by: Mapped[str | None] = mapped_column(String(200), default=None)
