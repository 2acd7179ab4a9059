"""Usage streams and shapes: what a resource's spans share, stored once.

A *stream* is one resource's usage of one meter for one owner (project, allocation,
provider, offering, user); a *shape* one distinct set of span attributes. Both are
found by a key (:func:`stream_key`, :func:`shape_key`) and created on first use; two
transactions creating the same one meet on its unique key, and the second uses the
first's row. :func:`record_span` records one span described in full, as the bare-metal
leases and the tests do; ingestion (``metering.ingest``) resolves a batch's streams
and shapes at once.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ocx.domain.metering.models import UsageShape, UsageSpan, UsageStream

CHUNK = 500  # keys per IN (...) query
SHAPES = cast(Table, UsageShape.__table__)
STREAMS = cast(Table, UsageStream.__table__)
# A stream's owner and resource, in the order of ``stream_key``'s parts.
STREAM_COLUMNS = ("project_id", "allocation_id", "provider_id", "offering_id", "user_id",
                  "resource_kind", "resource_id", "meter", "unit")


@dataclass(frozen=True)
class StreamOf:
    """Whose usage of which resource and meter: the values of STREAM_COLUMNS."""

    project_id: uuid.UUID
    allocation_id: uuid.UUID | None
    provider_id: uuid.UUID | None
    offering_id: uuid.UUID | None
    user_id: uuid.UUID | None
    resource_kind: str
    resource_id: str
    meter: str
    unit: str

    @cached_property
    def key(self) -> str:
        """:func:`stream_key`, computed once (a batch looks a new stream up several times)."""
        return stream_key(self)

    def values(self) -> dict[str, Any]:
        """The stream row's values (its key included)."""
        return {"key": self.key, **{name: getattr(self, name) for name in STREAM_COLUMNS}}


def stream_key(stream: StreamOf) -> str:
    """The stream's identity as one string (a SHA-256 of its parts): owners' ids may be
    empty, and a unique index over nullable columns would not tell two empties apart."""
    parts = "\x1f".join("" if getattr(stream, name) is None else str(getattr(stream, name))
                        for name in STREAM_COLUMNS)
    return hashlib.sha256(parts.encode()).hexdigest()


def shape_key(attributes: Mapping[str, Any]) -> str:
    """A shape's canonical JSON text (sorted keys, no spaces)."""
    return json.dumps(attributes, sort_keys=True, separators=(",", ":"), default=str)


def dialect_insert(session: Session, table: Any) -> Any:
    """The database's own INSERT for ``table`` (it has ``on_conflict_do_nothing``)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _ids_by_key(session: Session, table: Table, keys: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(keys))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), CHUNK):
        found.update((key, row_id) for key, row_id in session.execute(
            select(table.c.key, table.c.id).where(table.c.key.in_(wanted[start:start + CHUNK]))))
    return found


def _create(session: Session, table: Table, rows: Mapping[str, dict[str, Any]]
            ) -> dict[str, int]:
    """The ids of the rows by key, those missing inserted first (a concurrent insert of
    the same key wins and its row is used)."""
    found = _ids_by_key(session, table, rows)
    missing = [rows[key] for key in rows if key not in found]
    if missing:
        session.execute(dialect_insert(session, table).on_conflict_do_nothing(), missing)
        found.update(_ids_by_key(session, table, (row["key"] for row in missing)))
    return found


def stream_ids(session: Session, streams: Iterable[StreamOf]) -> dict[str, int]:
    """Each stream's id by its key, streams not seen before created."""
    return _create(session, STREAMS, {s.key: s.values() for s in streams})


@dataclass
class Shapes:
    """Shape ids by attributes, and attributes by id, within one transaction."""

    session: Session
    by_key: dict[str, int] = field(default_factory=dict)
    by_id: dict[int, dict[str, Any]] = field(default_factory=dict)

    def id_of(self, attributes: Mapping[str, Any]) -> int:
        """The shape's id, created if new."""
        key = shape_key(attributes)
        found = self.by_key.get(key)
        if found is None:
            found = self.by_key[key] = _create(self.session, SHAPES, {key: {
                "key": key, "attributes": dict(attributes)}})[key]
            self.by_id[found] = json.loads(key)
        return found

    def attributes(self, shape_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """The attributes of shapes by id (each read once)."""
        missing = sorted(set(shape_ids) - self.by_id.keys())
        for start in range(0, len(missing), CHUNK):
            for shape_id, key in self.session.execute(select(SHAPES.c.id, SHAPES.c.key).where(
                    SHAPES.c.id.in_(missing[start:start + CHUNK]))):
                self.by_id[shape_id] = json.loads(key)
                self.by_key[key] = shape_id
        return self.by_id


@dataclass(frozen=True)
class SpanRecord:
    """One span described in full: its stream, shape, times, quantity and event."""

    stream: StreamOf
    attributes: Mapping[str, Any]
    quantity: Decimal
    started_at: datetime
    ended_at: datetime
    source_event_id: str


def record_span(session: Session, record: SpanRecord) -> UsageSpan:
    """Insert the span unless its stream has one ending at the same time (the same event
    recorded before); the span kept is returned. Safe under retries and races: a second
    recording of the same event, even concurrent, leaves the first span as it is."""
    stream_id = stream_ids(session, [record.stream])[record.stream.key]
    same = select(UsageSpan).where(UsageSpan.stream_id == stream_id,
                                   UsageSpan.ended_at == record.ended_at)
    existing = session.scalar(same)
    if existing is not None:
        return existing
    span = UsageSpan(stream_id=stream_id, shape_id=Shapes(session).id_of(record.attributes),
                     started_at=record.started_at, ended_at=record.ended_at,
                     quantity=record.quantity, source_event_id=record.source_event_id)
    try:
        with session.begin_nested():
            session.add(span)
    except IntegrityError:
        raced = session.scalar(same)
        if raced is None:
            raise
        return raced
    return span
