"""Ingesting provider events into usage spans, and checkpointing open intervals.

Each live resource has one open interval (its shape and state since its last change).
An event closes the resource's interval into a span and opens the next one (or none:
the resource is gone). Every event id is claimed in ``usage_events`` first, under its
unique constraint, so ingesting an event twice — a replayed batch, a collector that
crashed before committing its cursor, two workers racing — changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Insert, Table, func, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ocx.domain.metering.bulk import BulkDelete, BulkInsert, BulkUpdate, MemoRead, ToDriver
from ocx.domain.metering.meters import meter_of
from ocx.domain.metering.models import IngestedEvent, OpenInterval, UsageSpan
from ocx.drivers.usage import UsageEvent
from ocx.persistence.base import utcnow

CHUNK = 500  # ids per IN (...) query
Key = tuple[str, str]  # (resource kind, resource id)
INTERVALS = cast(Table, OpenInterval.__table__)
SPANS = cast(Table, UsageSpan.__table__)
EVENTS = cast(Table, IngestedEvent.__table__)
SPAN_COLUMNS = ("id", "created_at", "updated_at", "project_id", "allocation_id", "provider_id",
                "offering_id", "user_id", "resource_kind", "resource_id", "meter", "quantity",
                "unit", "started_at", "ended_at", "source_event_id", "attributes")
INTERVAL_COLUMNS = ("id", "provider_id", "offering_id", "project_id", "allocation_id",
                    "resource_kind", "resource_id", "attributes", "since", "last_event_id")
MOVING_COLUMNS = ("attributes", "since", "last_event_id")  # what an event changes
RAW_IDS = ("id", "provider_id", "offering_id", "project_id", "allocation_id")


@dataclass(frozen=True)
class Owner:
    """Whom a provider tenant's usage belongs to in OCX."""

    project_id: uuid.UUID
    allocation_id: uuid.UUID | None
    provider_id: uuid.UUID
    offering_id: uuid.UUID
    user_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Ingested:
    """What one ingestion did."""

    events: int = 0  # new events applied
    duplicates: int = 0  # events already ingested before
    unattributed: int = 0  # events of tenants that are no OCX allocation
    spans: int = 0  # spans written

    def __add__(self, other: Ingested) -> Ingested:
        return Ingested(self.events + other.events, self.duplicates + other.duplicates,
                        self.unattributed + other.unattributed, self.spans + other.spans)


@dataclass
class Interval:
    """An open interval being worked on (a row of ``usage_open_intervals``). In
    :func:`ingest` its ids (RAW_IDS) are kept as the database driver gives and takes
    them: read, copied into spans and written back without conversion."""

    id: uuid.UUID
    provider_id: uuid.UUID
    offering_id: uuid.UUID
    project_id: uuid.UUID
    allocation_id: uuid.UUID | None
    resource_kind: str
    resource_id: str
    attributes: dict[str, Any]
    since: datetime
    last_event_id: str

    def row(self) -> tuple[Any, ...]:
        """The values of INTERVAL_COLUMNS."""
        return tuple(getattr(self, name) for name in INTERVAL_COLUMNS)

    def span(self, span_id: Any, ended_at: datetime, source_event_id: str,
             now: datetime) -> tuple[Any, ...]:
        """The span from ``since`` to ``ended_at`` (the values of SPAN_COLUMNS)."""
        meter = meter_of(self.resource_kind)
        return (span_id, now, now, self.project_id, self.allocation_id, self.provider_id,
                self.offering_id, None, self.resource_kind, self.resource_id, meter.name,
                meter.quantity(self.attributes, self.since, ended_at), meter.unit, self.since,
                ended_at, source_event_id, self.attributes)


def span_event_id(provider_id: uuid.UUID, resource_id: str, started_at: datetime,
                  ended_at: datetime) -> str:
    """The deterministic id of the span a checkpoint cuts (same cut, same id)."""
    return f"{provider_id}:{resource_id}:{started_at.isoformat()}:{ended_at.isoformat()}"


def _insert(session: Session, table: Any) -> Insert:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return cast(Insert, dialect.insert(table))


def known_events(session: Session, rows: Mapping[str, datetime]) -> set[str]:
    """Which event ids (each with its event's time) were ingested before: in the ledger
    (events that closed no span) or as a span's ``source_event_id`` (the events that
    closed one, at its end)."""
    if not rows:
        return set()
    return (_known(session, EVENTS.c.source_event_id, EVENTS.c.at, rows)
            | _known(session, SPANS.c.source_event_id, SPANS.c.ended_at, rows))


def _known(session: Session, ids: Any, times: Any, rows: Mapping[str, datetime]) -> set[str]:
    """Which of the ids are in ``ids``' table: by the batch's time range (``times`` is
    indexed) when few rows fall in it (the usual re-read overlap), else by id (a long
    first read, say)."""
    in_range = (times >= min(rows.values()), times <= max(rows.values()))
    recorded = session.scalar(select(func.count()).select_from(ids.table).where(*in_range))
    if (recorded or 0) <= len(rows):
        return {i for i in session.scalars(select(ids).where(*in_range)) if i in rows}
    wanted = list(rows)
    known: set[str] = set()
    for start in range(0, len(wanted), CHUNK):
        known.update(session.scalars(select(ids).where(ids.in_(wanted[start:start + CHUNK]))))
    return known


def _load_open(session: Session, provider_id: uuid.UUID, keys: set[Key]
               ) -> dict[Key, Interval]:
    found: dict[Key, Interval] = {}
    ordered = sorted(keys)
    table = INTERVALS
    read = MemoRead(session, [table.c[n] for n in INTERVAL_COLUMNS], raw=RAW_IDS)
    of_provider = select(*read.selected).where(table.c.provider_id == provider_id)
    live = session.scalar(select(func.count()).select_from(table).where(
        table.c.provider_id == provider_id)) or 0
    if len(ordered) > CHUNK and live <= 4 * len(ordered):
        queries = [of_provider]  # most of them: one read, not one (scanning) read per chunk
    else:
        queries = [of_provider.where(tuple_(table.c.resource_kind, table.c.resource_id).in_(
            ordered[start:start + CHUNK])) for start in range(0, len(ordered), CHUNK)]
    for query in queries:
        for row in read.read(session, query):
            interval = Interval(*row)
            key = (interval.resource_kind, interval.resource_id)
            if key in keys:
                found[key] = interval
    return found


def _same(value: Any) -> Any:
    return value


def _new_ids(session: Session) -> Iterator[Any]:
    """New row ids, as the driver takes them: a random (version 4) UUID whose last 32
    bits count up, so that one batch's rows sit side by side in the primary key's index
    (a fully random key dirties a page of it per row)."""
    dialect = session.get_bind().dialect
    processor = SPANS.c.id.type.dialect_impl(dialect).bind_processor(dialect)
    base = uuid.uuid4().int & ~0xFFFF_FFFF
    if processor is not None and processor(uuid.UUID(int=base)) == f"{base:032x}":
        return (f"{base | n:032x}" for n in range(1 << 32))  # SQLite: the bare hex digits
    if processor is None:  # PostgreSQL: UUID objects
        return (uuid.UUID(int=base | n) for n in range(1 << 32))
    return (processor(uuid.UUID(int=base | n)) for n in range(1 << 32))


class _Applier:
    """Applies fresh events to the open intervals in memory, then writes the result."""

    def __init__(self, session: Session, provider_id: uuid.UUID,
                 owners: Mapping[str, Owner], intervals: dict[Key, Interval]) -> None:
        self.owners, self.intervals = owners, intervals
        # Rows are built as the driver takes them: ids as read, the rest converted once.
        self.raw_id, self.stamp = ToDriver(session, SPANS.c.id), ToDriver(
            session, SPANS.c.started_at)
        self.json = ToDriver(session, SPANS.c.attributes)
        dialect = session.get_bind().dialect
        self.number = SPANS.c.quantity.type.dialect_impl(dialect).bind_processor(
            dialect) or _same
        self.provider_id = self.raw_id(provider_id)
        self.new_ids = _new_ids(session)
        self.loaded = {interval.id for interval in intervals.values()}
        self.changed: set[Any] = set()  # ids of loaded intervals that moved on
        self.spans: list[tuple[Any, ...]] = []
        self.closed: set[str] = set()  # ids of the events that closed a span
        self.now = self.stamp(utcnow())
        self.shapes: dict[Any, dict[str, Any]] = {}
        self.merged: dict[Any, tuple[dict[str, Any], dict[str, Any]]] = {}

    def shared(self, attributes: dict[str, Any]) -> dict[str, Any]:
        """One dict per distinct set of attributes: converted to JSON once per batch."""
        try:
            key = tuple(sorted(attributes.items()))
            return self.shapes.setdefault(key, attributes)
        except TypeError:  # an unhashable value: left as it is
            return attributes

    def changed_shape(self, attributes: dict[str, Any], change: Mapping[str, Any]
                      ) -> dict[str, Any]:
        """The shared dict of ``attributes`` updated by ``change``, merged once per
        distinct pair (a server stopping, starting, resizing: the same few changes)."""
        try:
            key = (id(attributes), *change.items())
            found = self.merged.get(key)
        except TypeError:  # an unhashable value: merged every time
            return self.shared({**attributes, **change})
        if found is None:  # the entry keeps ``attributes`` alive: its id stays its own
            found = self.merged[key] = (attributes, self.shared({**attributes, **change}))
        return found[1]

    def apply(self, event: UsageEvent) -> bool:
        """Apply one event; whether it belonged to an OCX allocation."""
        key = (event.resource_kind, event.resource_id)
        current = self.intervals.get(key)
        if current is None:
            return self._open(key, event)
        at = max(event.at, current.since)  # an event older than a checkpoint counts from it
        if at > current.since:
            self._close(current, at, event.source_event_id)
        if event.attributes is None:
            del self.intervals[key]
        else:
            current.attributes = self.changed_shape(current.attributes, event.attributes)
            current.since, current.last_event_id = at, event.source_event_id
            self.changed.add(current.id)
        return True

    def _close(self, current: Interval, at: datetime, event_id: str) -> None:
        """The span ``current`` ends with at ``at``: a row of SPAN_COLUMNS, bound."""
        meter, stamp = meter_of(current.resource_kind), self.stamp
        quantity = meter.quantity(current.attributes, current.since, at)
        self.closed.add(event_id)
        self.spans.append((
            next(self.new_ids), self.now, self.now, current.project_id,
            current.allocation_id, current.provider_id, current.offering_id, None,
            current.resource_kind, current.resource_id, meter.name, self.number(quantity),
            meter.unit, stamp(current.since), stamp(at), event_id,
            self.json(current.attributes)))

    def _open(self, key: Key, event: UsageEvent) -> bool:
        owner = self.owners.get(event.tenant_id)
        if owner is None:
            return False
        if event.attributes is not None:
            raw = self.raw_id
            self.intervals[key] = Interval(
                next(self.new_ids), self.provider_id, raw(owner.offering_id),
                raw(owner.project_id), raw(owner.allocation_id), event.resource_kind,
                event.resource_id, self.shared(dict(event.attributes)), event.at,
                event.source_event_id)
        return True

    def write(self, session: Session) -> None:
        """Spans inserted; closed intervals deleted, changed ones updated in place (by
        primary key: no index changes) and new ones inserted, one statement each."""
        BulkInsert(session, SPANS, SPAN_COLUMNS, bound=SPAN_COLUMNS).execute(self.spans)
        live = {interval.id: interval for interval in self.intervals.values()}
        BulkDelete(session, INTERVALS, "id", bound=RAW_IDS).execute(
            [(interval_id,) for interval_id in self.loaded if interval_id not in live])
        json, stamp = self.json, self.stamp
        BulkUpdate(session, INTERVALS, MOVING_COLUMNS, "id", bound=INTERVAL_COLUMNS).execute(
            [(json(live[i].attributes), stamp(live[i].since), live[i].last_event_id, i)
             for i in self.changed if i in live])
        BulkInsert(session, INTERVALS, INTERVAL_COLUMNS, bound=RAW_IDS).execute(
            [interval.row() for interval in live.values() if interval.id not in self.loaded])


def ingest(session: Session, provider_id: uuid.UUID, owners: Mapping[str, Owner],
           events: Sequence[UsageEvent], *, in_order: bool = False) -> Ingested:
    """Apply ``events`` (one provider's, each resource's in time order) to the open
    intervals, writing a span for every interval an event closes.

    ``owners`` maps provider tenant ids to OCX owners; events of other tenants are
    recorded but count nothing. Idempotent: events ingested before are skipped. An event
    that closes a span is known by the span's unique ``source_event_id``; the others
    (a resource created, an unattributed tenant's) go to the ledger, ``usage_events``.
    Two workers writing the same new event collide on one of these unique keys: one
    transaction fails, its operation is retried and then finds the event known.
    ``in_order``: the events are sorted by time already.
    """
    if not events:
        return Ingested()
    times = {e.source_event_id: e.at for e in events}
    seen = known_events(session, times)
    fresh, keys = [], set()
    for event in events if in_order else sorted(events, key=lambda e: e.at):
        if event.source_event_id not in seen:
            seen.add(event.source_event_id)  # a repeat within the batch counts once
            fresh.append(event)
            keys.add((event.resource_kind, event.resource_id))
    applier = _Applier(session, provider_id, owners, _load_open(session, provider_id, keys))
    unattributed = sum(not applier.apply(event) for event in fresh)
    applier.write(session)
    closed = applier.closed
    BulkInsert(session, EVENTS, ("source_event_id", "at")).execute(
        [(e.source_event_id, e.at) for e in fresh if e.source_event_id not in closed])
    return Ingested(events=len(fresh) - unattributed, duplicates=len(times) - len(fresh),
                    unattributed=unattributed, spans=len(applier.spans))


def checkpoint(session: Session, at: datetime, *, offering_id: uuid.UUID | None = None) -> int:
    """Close every open interval (of one offering, or all) at ``at`` and reopen it there.

    So a month can be rated up to its end while servers still run. The spans get
    deterministic ids (:func:`span_event_id`): checkpointing the same time twice writes
    nothing the second time. Returns the number of spans written.
    """
    due = [INTERVALS.c.since < at]
    if offering_id is not None:
        due.append(INTERVALS.c.offering_id == offering_id)
    now = utcnow()
    read = MemoRead(session, [INTERVALS.c[n] for n in INTERVAL_COLUMNS])
    rows = read.read(session, select(*read.selected).where(*due))
    spans = [dict(zip(SPAN_COLUMNS, interval.span(
                 uuid.uuid4(), at, span_event_id(interval.provider_id, interval.resource_id,
                                   interval.since, at), now), strict=True))
             for interval in (Interval(*row) for row in rows)]
    if not spans:
        return 0
    written = list(session.scalars(
        _insert(session, UsageSpan).on_conflict_do_nothing()  # type: ignore[attr-defined]
        .returning(UsageSpan.source_event_id), spans))
    session.execute(update(INTERVALS).where(*due).values(since=at))
    return len(written)
