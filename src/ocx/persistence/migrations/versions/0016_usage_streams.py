"""usage spans become compact rows of usage streams and shapes

A span used to repeat its resource's owner, kind, id, meter and unit (six UUIDs and
five strings) and its attributes as JSON: ~700 bytes a row, hundreds of thousands of
rows a month. Now what a resource's spans share is one ``usage_streams`` row (which
also holds the resource's open interval, replacing ``usage_open_intervals``), each
distinct set of attributes one ``usage_shapes`` row, and a span is an integer id, its
stream and shape, its times, its quantity and its event. A span's natural key, its
stream and end, is unique (and indexed end first, so that a batch's spans go to one
end of the index); the unique index on ``source_event_id`` goes: its keys, random
event ids, cost two thirds of a span's insert. Spans name their stream and shape without
foreign keys (PostgreSQL would run a trigger per row for each; see the models).

Existing spans and open intervals are moved over; invoice lines' ``span_ids`` are
rewritten to the new integer ids. Not reversible (restore a backup to go back).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-21 23:50:00
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WITH_USER = sa.text("user_id IS NOT NULL")
CHUNK = 5000
LOG = logging.getLogger("alembic.runtime.migration")
# Frozen as of this revision: the meters of the kinds that had open intervals, and the
# stream key (``metering.streams.stream_key``), which must never change.
METERS = {"server": ("compute.server", "hour"), "volume": ("volume.storage", "GiB-hour"),
          "floating_ip": ("network.floating_ip", "hour"),
          "bucket": ("object.storage", "GiB-hour"),
          "bucket_requests": ("object.requests", "request"),
          "bucket_transfer_out": ("object.transfer_out", "GiB")}
OWNER = ("project_id", "allocation_id", "provider_id", "offering_id", "user_id",
         "resource_kind", "resource_id", "meter", "unit")


IDS = OWNER[:5]


def stream_key(values: dict[str, Any]) -> str:
    parts = "\x1f".join("" if values[name] is None else str(values[name]) for name in OWNER)
    return hashlib.sha256(parts.encode()).hexdigest()


def _uuid(value: Any) -> uuid.UUID | None:
    """An id as read by reflection (a UUID, or 32 hex digits on SQLite) as a UUID."""
    return None if value is None else uuid.UUID(str(value))


def shape_key(attributes: dict[str, Any]) -> str:
    return json.dumps(attributes, sort_keys=True, separators=(",", ":"), default=str)


def upgrade() -> None:
    op.create_table(
        "usage_shapes",
        sa.Column("id", RowId, autoincrement=True, nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_shapes")),
        sa.UniqueConstraint("key", name=op.f("uq_usage_shapes_key")),
    )
    op.create_table(
        "usage_streams",
        sa.Column("id", RowId, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("allocation_id", sa.Uuid(), nullable=True),
        sa.Column("provider_id", sa.Uuid(), nullable=True),
        sa.Column("offering_id", sa.Uuid(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("resource_kind", sa.String(length=63), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("meter", sa.String(length=63), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("open_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("open_shape_id", RowId, nullable=True),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="RESTRICT",
                                name=op.f("fk_usage_streams_project_id_projects")),
        sa.ForeignKeyConstraint(["provider_id"], ["providers.id"], ondelete="RESTRICT",
                                name=op.f("fk_usage_streams_provider_id_providers")),
        sa.ForeignKeyConstraint(["offering_id"], ["offerings.id"], ondelete="RESTRICT",
                                name=op.f("fk_usage_streams_offering_id_offerings")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_usage_streams_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_streams")),
        sa.UniqueConstraint("key", name=op.f("uq_usage_streams_key")),
    )
    op.create_index("ix_usage_streams_resource", "usage_streams",
                    ["provider_id", "resource_kind", "resource_id"], unique=False)
    op.create_index("ix_usage_streams_user_id", "usage_streams", ["user_id"], unique=False,
                    sqlite_where=WITH_USER, postgresql_where=WITH_USER)
    for column in ("project_id", "offering_id"):
        op.create_index(f"ix_usage_streams_{column}", "usage_streams", [column], unique=False)

    # The old spans step aside (their index and constraint names are taken back).
    op.drop_index("ix_usage_spans_user_id", table_name="usage_spans")
    op.drop_index("ix_usage_spans_ended_at", table_name="usage_spans")
    op.rename_table("usage_spans", "usage_spans_old")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE usage_spans_old RENAME CONSTRAINT pk_usage_spans "
                   "TO pk_usage_spans_old")
        op.execute("ALTER TABLE usage_spans_old RENAME CONSTRAINT "
                   "uq_usage_spans_source_event_id TO uq_usage_spans_old_source_event_id")
    op.create_table(
        "usage_spans",
        sa.Column("id", RowId, autoincrement=True, nullable=False),
        sa.Column("stream_id", RowId, nullable=False),
        sa.Column("shape_id", RowId, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=24, scale=6), nullable=False),
        sa.Column("source_event_id", sa.String(length=200), nullable=False),
        sa.CheckConstraint("ended_at >= started_at", name=op.f("ck_usage_spans_span")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_spans")),
    )
    op.create_index("ix_usage_spans_ended_at", "usage_spans", ["ended_at", "stream_id"],
                    unique=True)
    _move_data(op.get_bind())
    op.drop_table("usage_spans_old")
    op.drop_index("ix_usage_open_intervals_project_id", table_name="usage_open_intervals")
    op.drop_index("ix_usage_open_intervals_offering_id", table_name="usage_open_intervals")
    op.drop_table("usage_open_intervals")


class _Keys:
    """Streams and shapes found or created as the old rows are read."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self.streams: dict[str, int] = {}
        self.shapes: dict[str, int] = {}
        meta = sa.MetaData()
        self.stream_table = sa.Table("usage_streams", meta, autoload_with=conn)
        self.shape_table = sa.Table("usage_shapes", meta, autoload_with=conn)

    def stream(self, row: dict[str, Any]) -> int:
        values = {**row, **{name: _uuid(row[name]) for name in IDS}}
        key = stream_key(values)
        if key not in self.streams:
            self.streams[key] = self.conn.execute(self.stream_table.insert().values(
                key=key, **{name: row[name] for name in OWNER}).returning(
                self.stream_table.c.id)).scalar_one()
        return self.streams[key]

    def shape(self, attributes: dict[str, Any] | None) -> int:
        attributes = attributes or {}
        key = shape_key(attributes)
        if key not in self.shapes:
            self.shapes[key] = self.conn.execute(self.shape_table.insert().values(
                key=key, attributes=attributes).returning(self.shape_table.c.id)).scalar_one()
        return self.shapes[key]


def _move_data(conn: sa.Connection) -> None:
    meta = sa.MetaData()
    old = sa.Table("usage_spans_old", meta, autoload_with=conn)
    intervals = sa.Table("usage_open_intervals", meta, autoload_with=conn)
    spans = sa.Table("usage_spans", meta, autoload_with=conn)
    lines = sa.Table("invoice_lines", meta, autoload_with=conn)
    ledger = sa.Table("usage_events", meta, autoload_with=conn)
    keys = _Keys(conn)
    # Only the old ids that invoice lines name need their new id remembered.
    named = {str(_uuid(i)) for (ids,) in conn.execute(sa.select(lines.c.span_ids)) for i in
             ids or ()}
    new_ids: dict[str, int] = {}
    moved = _Moved()
    # Read in time order, in chunks, and written in bulk with ids counted here (the new
    # table is empty). Spans of one stream ending at one instant are next to each other;
    # of those, the one that started first is moved.
    rows = conn.execute(sa.select(old).order_by(old.c.ended_at, old.c.started_at, old.c.id)
                        .execution_options(stream_results=True, yield_per=CHUNK)).mappings()
    for chunk in rows.partitions():
        batch = []
        for row in chunk:
            stream_id = keys.stream(dict(row))
            span_id, is_new = moved.place(stream_id, row["ended_at"])
            if is_new:
                batch.append({"id": span_id, "stream_id": stream_id,
                              "shape_id": keys.shape(row["attributes"]),
                              "started_at": row["started_at"], "ended_at": row["ended_at"],
                              "quantity": row["quantity"],
                              "source_event_id": row["source_event_id"]})
            else:  # a second span of a stream at one end: its event stays known
                moved.dropped.append({"source_event_id": row["source_event_id"],
                                      "at": row["ended_at"]})
            if str(_uuid(row["id"])) in named:
                new_ids[str(_uuid(row["id"]))] = span_id
        if batch:
            conn.execute(spans.insert(), batch)
    if moved.dropped:
        LOG.warning("0016: %d span(s) ended at the same time as an earlier span of their "
                    "stream and were not moved (their events stay known)", len(moved.dropped))
        known = set(conn.scalars(sa.select(ledger.c.source_event_id).where(
            ledger.c.source_event_id.in_([d["source_event_id"] for d in moved.dropped]))))
        fresh = {d["source_event_id"]: d for d in moved.dropped
                 if d["source_event_id"] not in known}
        if fresh:
            conn.execute(ledger.insert(), list(fresh.values()))
    if conn.dialect.name == "postgresql":  # the id sequence goes on after the moved spans
        conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('usage_spans', 'id'), "
                             "COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM usage_spans"))
    for row in conn.execute(sa.select(intervals)).mappings():
        meter, unit = METERS.get(row["resource_kind"], (row["resource_kind"], "hour"))
        stream_id = keys.stream({**row, "user_id": None, "meter": meter, "unit": unit})
        conn.execute(keys.stream_table.update().where(keys.stream_table.c.id == stream_id)
                     .values(open_since=row["since"], open_shape_id=keys.shape(row["attributes"])))
    for line_id, span_ids in conn.execute(sa.select(lines.c.id, lines.c.span_ids)).all():
        if span_ids:
            conn.execute(lines.update().where(lines.c.id == line_id).values(
                span_ids=sorted({new_ids[str(_uuid(i))] for i in span_ids
                                 if str(_uuid(i)) in new_ids})))


class _Moved:
    """New span ids, counted up, and the streams that have a span at the current end."""

    def __init__(self) -> None:
        self.last_id = 0
        self.end: Any = None
        self.at_end: dict[int, int] = {}  # stream -> its span's new id, at ``end``
        self.dropped: list[dict[str, Any]] = []

    def place(self, stream_id: int, ended_at: Any) -> tuple[int, bool]:
        """The new id of the span of ``stream_id`` ending at ``ended_at`` (rows come in
        time order), and whether it is new."""
        if ended_at != self.end:
            self.end, self.at_end = ended_at, {}
        if stream_id in self.at_end:
            return self.at_end[stream_id], False
        self.last_id += 1
        self.at_end[stream_id] = self.last_id
        return self.last_id, True


def downgrade() -> None:
    raise NotImplementedError(
        "0016 moved usage spans to integer ids on streams and shapes and cannot be undone "
        "in place: restore the backup taken before upgrading")
