"""Usage spans: what a project used, from when to when, recorded from events.

Minimal on purpose: the billing work extends it (rating, invoices). Metering is
event-driven: each span comes from one event (a lease ended, a server was resized...)
whose id is ``source_event_id``; it is unique, so ingesting an event twice — a retried
operation, a replayed notification — changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ocx.persistence.base import Base, IdMixin, TimestampMixin, utcnow

__all__ = ["IngestedEvent", "OpenInterval", "UsageCursor", "UsageSpan"]


class UsageSpan(IdMixin, TimestampMixin, Base):
    """``quantity`` of ``meter`` (in ``unit``) used by a project's resource over a span."""

    __tablename__ = "usage_spans"
    # Spans are found by time (a month to rate, a window to de-duplicate), then by owner:
    # every index slows the hundreds of thousands of spans ingested a month (0012, 0015).
    # ``user_id`` is indexed only where set (for deleting users): ingested spans have none.
    __table_args__ = (
        CheckConstraint("ended_at >= started_at", name="span"),
        Index("ix_usage_spans_ended_at", "ended_at"),
        Index("ix_usage_spans_user_id", "user_id", sqlite_where=text("user_id IS NOT NULL"),
              postgresql_where=text("user_id IS NOT NULL")),
    )

    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The allocation the usage belongs to, when there is one (bare-metal leases have none).
    allocation_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    resource_kind: Mapped[str] = mapped_column(String(63))
    resource_id: Mapped[str] = mapped_column(String(64))
    meter: Mapped[str] = mapped_column(String(63))
    quantity: Mapped[Decimal] = mapped_column(Numeric(24, 6))
    unit: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    source_event_id: Mapped[str] = mapped_column(String(200), unique=True)
    # Where the usage happened: the provider (for revenue reports and outages) and the
    # offering (whose plan prices it). Both empty for usage outside the marketplace.
    provider_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("providers.id", ondelete="RESTRICT"), default=None)
    offering_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("offerings.id", ondelete="RESTRICT"), default=None)
    # The OCX user the resource is attributed to (showback by user), when known.
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)
    # What the rating rules need and the meter alone does not say: for a server
    # {"vcpus": 4, "ram_mib": 8192, "gpus": 0, "gpu_type": null, "state": "active",
    #  "flavor": "m1.large"}; see docs/metering.md for each meter's keys.
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class UsageCursor(IdMixin, TimestampMixin, Base):
    """Where one offering's collector got to: committed with the spans it produced."""

    __tablename__ = "usage_cursors"
    __table_args__ = (UniqueConstraint("provider_id", "offering_id"),)

    provider_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"))
    offering_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("offerings.id", ondelete="CASCADE"), index=True)
    # The collector's own position (e.g. {"servers": "2026-11-21T14:00:00+00:00"}).
    position: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Every event before this time has been ingested.
    collected_until: Mapped[datetime | None] = mapped_column(default=None)


class OpenInterval(IdMixin, Base):
    """A live resource's current shape and state, since when: the span it will close."""

    __tablename__ = "usage_open_intervals"
    __table_args__ = (UniqueConstraint("provider_id", "resource_kind", "resource_id"),)

    provider_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"))
    offering_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("offerings.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="RESTRICT"), index=True)
    allocation_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    resource_kind: Mapped[str] = mapped_column(String(63))
    resource_id: Mapped[str] = mapped_column(String(64))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    since: Mapped[datetime]
    last_event_id: Mapped[str] = mapped_column(String(200))


class IngestedEvent(Base):
    """A provider event already ingested that closed no span (the others are known by
    their span's unique ``source_event_id``): with it, ingestion is idempotent."""

    __tablename__ = "usage_events"

    source_event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)  # finds a re-read window's events
