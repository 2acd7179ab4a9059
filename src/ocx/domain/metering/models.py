"""Usage spans: what a project used, from when to when, recorded from events.

Metering is event-driven: each span comes from one event (a lease ended, a server was
resized...) whose id is ``source_event_id``. A month holds hundreds of thousands of
spans, so a span row is compact (0016): what every span of one resource repeats (its
owner, kind, id, meter and unit) is on its *stream* (``usage_streams``), and each
distinct set of attributes (a flavor in a state) is stored once (``usage_shapes``).
A span is the stream, the shape, its start and end, its quantity and its event.

Ingesting an event twice changes nothing: the event that closes a span does so at the
span's end, and a resource's spans never overlap, so a span's natural key, its stream
and its end, is unique; a replayed event is found by that key (and by the event ledger
for the events that close no span) and skipped; two workers racing on one event collide
on it. The stream also holds the resource's *open interval*: its current shape and since
when (the span the next event will close).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ocx.persistence.base import Base, IdMixin, TimestampMixin

__all__ = ["IngestedEvent", "UsageCursor", "UsageShape", "UsageSpan", "UsageStream"]

# Integer keys: 8 bytes on PostgreSQL; SQLite's rowid (its own INTEGER PRIMARY KEY).
RowId = BigInteger().with_variant(Integer, "sqlite")


class UsageShape(Base):
    """One distinct set of span attributes, e.g. ``{"flavor": "m1.large", "vcpus": 4,
    "ram_mib": 8192, "gpus": 0, "gpu_type": null, "state": "active"}`` for a server (see
    docs/metering.md for each meter's keys); ``key`` is its canonical JSON text."""

    __tablename__ = "usage_shapes"

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(Text, unique=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON)


class UsageStream(Base):
    """One resource's usage of one meter for one owner: what all its spans share, and
    the resource's open interval while it lives (``open_since`` set)."""

    __tablename__ = "usage_streams"
    __table_args__ = (
        # A provider's resources, found by kind and id (their open intervals are updated
        # hundreds of thousands of times a month: no index covers the open_* columns).
        Index("ix_usage_streams_resource", "provider_id", "resource_kind", "resource_id"),
        Index("ix_usage_streams_user_id", "user_id", sqlite_where=text("user_id IS NOT NULL"),
              postgresql_where=text("user_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    # The owner and resource below, as one value (``metering.streams.stream_key``).
    key: Mapped[str] = mapped_column(String(64), unique=True)
    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="RESTRICT"), index=True)
    # The allocation the usage belongs to, when there is one (bare-metal leases have none).
    allocation_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    # Where the usage happened: the provider (for revenue reports and outages) and the
    # offering (whose plan prices it). Both empty for usage outside the marketplace.
    provider_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("providers.id", ondelete="RESTRICT"), default=None)
    offering_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("offerings.id", ondelete="RESTRICT"), default=None, index=True)
    # The OCX user the resource is attributed to (showback by user), when known.
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)
    resource_kind: Mapped[str] = mapped_column(String(63))
    resource_id: Mapped[str] = mapped_column(String(64))
    meter: Mapped[str] = mapped_column(String(63))
    unit: Mapped[str] = mapped_column(String(32))
    # The open interval: the resource's shape since ``open_since``.
    open_since: Mapped[datetime | None] = mapped_column(default=None)
    # (no foreign key, as a span's: see UsageSpan)
    open_shape_id: Mapped[int | None] = mapped_column(RowId, default=None)

    open_shape: Mapped[UsageShape | None] = relationship(
        lazy="joined", primaryjoin="foreign(UsageStream.open_shape_id) == UsageShape.id")


def _stream_column(name: str) -> Any:
    """A span's ``name``, read from its stream (a scalar subquery in SQL expressions:
    fine for tests and small reads; the hot paths join streams themselves)."""
    column = UsageStream.__table__.c[name]

    def read(span: UsageSpan) -> Any:
        return getattr(span.stream, name)

    def expression(cls: type[UsageSpan]) -> Any:
        return select(column).where(UsageStream.id == cls.stream_id).scalar_subquery()

    return hybrid_property(read, expr=expression)


class UsageSpan(Base):
    """``quantity`` of its stream's meter (in its unit) used over [started_at, ended_at)
    in one shape; closed by the event ``source_event_id``."""

    __tablename__ = "usage_spans"
    # Unique by stream and end (see the module's docstring); end first, so that a
    # batch's spans go to one end of the index and a month is read by time. No foreign
    # keys on ``stream_id`` and ``shape_id`` (nor on a stream's ``open_shape_id``): on
    # PostgreSQL each is a trigger run for every row, 4.6 times the cost of loading a
    # month's spans (bench/README.md); streams and shapes are never deleted, and spans
    # are only written by ingestion and ``streams.record_span``, with the ids of the
    # stream and shape they have just found or created.
    __table_args__ = (
        CheckConstraint("ended_at >= started_at", name="span"),
        Index("ix_usage_spans_ended_at", "ended_at", "stream_id", unique=True),
    )

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    stream_id: Mapped[int] = mapped_column(RowId)
    shape_id: Mapped[int] = mapped_column(RowId)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    quantity: Mapped[Decimal] = mapped_column(Numeric(24, 6))
    source_event_id: Mapped[str] = mapped_column(String(200))

    stream: Mapped[UsageStream] = relationship(
        lazy="joined", innerjoin=True, primaryjoin="foreign(UsageSpan.stream_id) == UsageStream.id")
    shape: Mapped[UsageShape] = relationship(
        lazy="joined", innerjoin=True, primaryjoin="foreign(UsageSpan.shape_id) == UsageShape.id")

    project_id = _stream_column("project_id")
    allocation_id = _stream_column("allocation_id")
    provider_id = _stream_column("provider_id")
    offering_id = _stream_column("offering_id")
    user_id = _stream_column("user_id")
    resource_kind = _stream_column("resource_kind")
    resource_id = _stream_column("resource_id")
    meter = _stream_column("meter")
    unit = _stream_column("unit")

    @property
    def attributes(self) -> dict[str, Any]:
        """What the rating rules need and the meter alone does not say (the shape's)."""
        return self.shape.attributes


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


class IngestedEvent(Base):
    """A provider event already ingested that closed no span (the others are known by
    the span they closed: its stream and end): with it, ingestion is idempotent."""

    __tablename__ = "usage_events"

    source_event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)  # finds a re-read window's events
