"""Ingesting provider events into usage spans, and checkpointing open intervals.

Each live resource has one open interval (its shape and state since its last change),
kept on its usage stream. An event closes the resource's interval into a span and
opens the next one (or none: the resource is gone). Ingesting an event twice (a
replayed batch, a collector that crashed before committing its cursor, two workers
racing) changes nothing: an event already ingested is found by its time, either as the
event of the span it closed (a stream's span is unique by its end) or in the ledger of
events that closed none (``usage_events``, unique by event id), and skipped.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any, cast

from sqlalchemy import Table, func, select, tuple_
from sqlalchemy.orm import Session

from ocx.domain.metering.bulk import BulkInsert, BulkUpdate, MemoRead, ToDriver
from ocx.domain.metering.meters import MICROSECOND, Meter, meter_of
from ocx.domain.metering.models import IngestedEvent, UsageSpan, UsageStream
from ocx.domain.metering.streams import Shapes, StreamOf, dialect_insert, stream_ids
from ocx.drivers.usage import UsageEvent

CHUNK = 500  # ids per IN (...) query
Key = tuple[str, str]  # (resource kind, resource id)
STREAMS = cast(Table, UsageStream.__table__)
SPANS = cast(Table, UsageSpan.__table__)
EVENTS = cast(Table, IngestedEvent.__table__)
SPAN_COLUMNS = ("stream_id", "shape_id", "started_at", "ended_at", "quantity",
                "source_event_id")
OPEN_COLUMNS = ("open_since", "open_shape_id")  # a stream's open interval
BY_TIME = attrgetter("at")  # an event's time (sorting key)


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
    duplicates: int = 0  # events ingested before (or earlier in the batch)
    unattributed: int = 0  # events of tenants that are no OCX allocation
    spans: int = 0  # spans written

    def __add__(self, other: Ingested) -> Ingested:
        return Ingested(self.events + other.events, self.duplicates + other.duplicates,
                        self.unattributed + other.unattributed, self.spans + other.spans)


@dataclass(slots=True)
class Interval:
    """A live resource's open interval being worked on: its stream (its id, or for a
    resource first seen in this batch its owner, the id resolved when written), its meter,
    and its shape since ``since`` (``since_bound``: that time as the driver takes it,
    once known)."""

    stream_id: int | None
    stream: StreamOf | None
    kind: str
    resource_id: str
    meter: Meter
    shape_id: int
    since: datetime
    since_bound: Any = None


def span_event_id(provider_id: uuid.UUID, resource_id: str, started_at: datetime,
                  ended_at: datetime) -> str:
    """The deterministic id of the span a checkpoint cuts (same cut, same id)."""
    return f"{provider_id}:{resource_id}:{started_at.isoformat()}:{ended_at.isoformat()}"


def known_events(session: Session, events: Sequence[UsageEvent]) -> set[str]:
    """Ids of events ingested before, among or beside ``events`` (sorted by time): in
    the ledger (events that closed no span) or as the event of a span (which it closed
    at its end). Both are read by the batch's time range (indexed) when it holds few
    rows, the usual re-read overlap; when it holds more than the batch (a collector that
    repeats old events, say, stretching the range over months), the ledger is read by
    the batch's ids and the spans by the batch's times."""
    first, last, most = events[0].at, events[-1].at, len(events)
    known: set[str] = set()
    for column, times, by_time in ((EVENTS.c.source_event_id, EVENTS.c.at, False),
                                   (SPANS.c.source_event_id, SPANS.c.ended_at, True)):
        in_range = list(session.scalars(select(column).where(
            times >= first, times <= last).limit(most + 1)))
        if len(in_range) <= most:
            known.update(in_range)
            continue
        keys: list[Any] = sorted({e.at for e in events}) if by_time else sorted(
            {e.source_event_id for e in events})
        lookup = times if by_time else column
        for start in range(0, len(keys), CHUNK):
            known.update(session.scalars(select(column).where(
                lookup.in_(keys[start:start + CHUNK]))))
    return known


class Quantities:
    """A span's quantity from its meter, shape and times (``Meter.quantity``), as the
    database driver takes it: computed in integer micro-units where the shape's amount
    is a whole number (a server's hours: always), once per distinct shape otherwise."""

    def __init__(self, session: Session, attributes: Mapping[int, Mapping[str, Any]]) -> None:
        self.attributes = attributes
        self.amounts: dict[tuple[str, int], int | None] = {}
        dialect = session.get_bind().dialect
        self.float = dialect.name == "sqlite"  # SQLite keeps numerics as floating point
        processor = SPANS.c.quantity.type.dialect_impl(dialect).bind_processor(dialect)
        self.bind: Callable[[Any], Any] = processor or (lambda value: value)

    def exact(self, meter: Meter, shape_id: int, since: datetime, until: datetime
              ) -> int | Decimal:
        """The quantity: in micro-units (an int) where the amount is whole, else as
        ``Meter.quantity`` gives it."""
        key = (meter.name, shape_id)
        amount = self.amounts.get(key, -1)
        if amount == -1:
            amount = self.amounts[key] = _whole_amount(meter, self.attributes[shape_id])
        if amount is None:  # a fractional amount: Decimal all the way
            return meter.quantity(self.attributes[shape_id], since, until)
        return _micro(amount, since, until)

    def decimal(self, meter: Meter, shape_id: int, since: datetime, until: datetime
                ) -> Decimal:
        """The quantity as a Decimal."""
        quantity = self.exact(meter, shape_id, since, until)
        return Decimal(quantity).scaleb(-6) if isinstance(quantity, int) else quantity

    def __call__(self, meter: Meter, shape_id: int, since: datetime, until: datetime) -> Any:
        """The quantity as the driver takes it."""
        amount = self.amounts.get((meter.name, shape_id))
        quantity = self.exact(meter, shape_id, since, until) if amount is None \
            else _micro(amount, since, until)
        if quantity.__class__ is not int:
            return self.bind(quantity)
        # SQLite: the double nearest the six-decimal value, as float(Decimal) gives.
        return quantity / 1_000_000 if self.float else Decimal(quantity).scaleb(-6)


def _micro(amount: int, since: datetime, until: datetime) -> int:
    """``amount`` x the hours from ``since`` to ``until``, in micro-units, rounded half
    to even as ``Decimal.quantize`` rounds ``Meter.quantity``."""
    micro, rest = divmod(amount * ((until - since) // MICROSECOND), 3600)
    if rest > 1800 or (rest == 1800 and micro & 1):
        micro += 1
    return micro


def _whole_amount(meter: Meter, attributes: Mapping[str, Any]) -> int | None:
    """The meter's amount for these attributes when it is a whole number, else None."""
    if meter.amount_key is None:
        return 1
    value = Decimal(str(attributes.get(meter.amount_key) or 0))
    return int(value) if value == value.to_integral_value() else None


def _load_open(session: Session, provider_id: uuid.UUID, keys: set[Key]
               ) -> dict[Key, Interval]:
    """The open intervals of the resources ``keys`` (one read of all the provider's when
    the batch touches most of them)."""
    found: dict[Key, Interval] = {}
    table = STREAMS
    read = MemoRead(session, [table.c.id, table.c.resource_kind, table.c.resource_id,
                              table.c.open_shape_id, table.c.open_since])
    of_provider = select(*read.selected).where(table.c.provider_id == provider_id,
                                               table.c.open_since.is_not(None))
    live = session.scalar(select(func.count()).select_from(table).where(
        table.c.provider_id == provider_id, table.c.open_since.is_not(None))) or 0
    if len(keys) > CHUNK and live <= 4 * len(keys):
        queries = [of_provider]  # most of them: one read, not one (scanning) read per chunk
    else:
        ordered = sorted(keys)
        queries = [of_provider.where(tuple_(table.c.resource_kind, table.c.resource_id).in_(
            ordered[start:start + CHUNK])) for start in range(0, len(ordered), CHUNK)]
    for query in queries:
        for stream_id, kind, resource_id, shape_id, since in read.read(session, query):
            key = (kind, resource_id)
            if key in keys:
                found[key] = Interval(stream_id, None, kind, resource_id, meter_of(kind),
                                      shape_id, since)
    return found


class _Applier:
    """Applies fresh events to the open intervals in memory, then writes the result."""

    def __init__(self, session: Session, provider_id: uuid.UUID,
                 owners: Mapping[str, Owner], intervals: dict[Key, Interval]) -> None:
        self.provider_id, self.owners, self.intervals = provider_id, owners, intervals
        self.shapes = Shapes(session)
        self.quantity = Quantities(session, self.shapes.attributes(
            interval.shape_id for interval in intervals.values()))
        self.stamp = ToDriver(session, SPANS.c.started_at)
        self.loaded = {interval.stream_id for interval in intervals.values()}
        self.spans: list[tuple[Any, ...]] = []  # rows of SPAN_COLUMNS, bound
        # Spans of resources first seen in this batch, with their interval: their
        # stream's id is known only when written.
        self.pending: list[tuple[Interval, tuple[Any, ...]]] = []
        self.closed: set[str] = set()  # ids of the events that closed a span
        self.merged: dict[tuple[Any, ...], int] = {}

    def changed_shape(self, shape_id: int, change: Mapping[str, Any]) -> int:
        """The shape ``shape_id`` updated by ``change``, merged once per distinct pair (a
        server stopping, starting, resizing: the same few changes)."""
        try:
            key = (shape_id, *change.items())
            found = self.merged.get(key)
        except TypeError:  # an unhashable value: merged every time
            return self.shapes.id_of({**self.shapes.by_id[shape_id], **change})
        if found is None:
            found = self.merged[key] = self.shapes.id_of(
                {**self.shapes.by_id[shape_id], **change})
        return found

    def apply(self, event: UsageEvent) -> bool:
        """Apply one event; whether it belonged to an OCX allocation."""
        key = (event.resource_kind, event.resource_id)
        current = self.intervals.get(key)
        if current is None:
            return self._open(key, event)
        since, shape_id, at = current.since, current.shape_id, event.at
        if at > since:  # (an event older than a checkpoint counts from it)
            event_id = event.source_event_id
            self.closed.add(event_id)
            stamp = self.stamp
            ended = stamp(at)
            span = (current.stream_id, shape_id, current.since_bound or stamp(since), ended,
                    self.quantity(current.meter, shape_id, since, at), event_id)
            if current.stream_id is None:
                self.pending.append((current, span))
            else:
                self.spans.append(span)
            current.since, current.since_bound = at, ended
        if event.attributes is None:
            del self.intervals[key]
        else:
            current.shape_id = self.changed_shape(shape_id, event.attributes)
        return True

    def _open(self, key: Key, event: UsageEvent) -> bool:
        owner = self.owners.get(event.tenant_id)
        if owner is None:
            return False
        if event.attributes is not None:
            meter = meter_of(event.resource_kind)
            stream = StreamOf(owner.project_id, owner.allocation_id, owner.provider_id,
                              owner.offering_id, owner.user_id, event.resource_kind,
                              event.resource_id, meter.name, meter.unit)
            self.intervals[key] = Interval(None, stream, event.resource_kind,
                                           event.resource_id, meter,
                                           self.shapes.id_of(event.attributes), event.at)
        return True

    def write(self, session: Session) -> None:
        """Streams that stopped closed; new resources' streams found or created; the
        open intervals written on their streams; the spans inserted."""
        live = list(self.intervals.values())
        # New resources' intervals: those still open, and those closed in this batch
        # (a resource created and deleted between two collections) that have spans.
        new = [interval for interval in [*live, *(pending[0] for pending in self.pending)]
               if interval.stream_id is None]
        if new:
            ids = stream_ids(session, (cast(StreamOf, i.stream) for i in new))
            for interval in new:
                interval.stream_id = ids[cast(StreamOf, interval.stream).key]
        stamp = self.stamp
        self.spans.extend((interval.stream_id, *span[1:]) for interval, span in self.pending)
        self.pending = []
        still_open = {interval.stream_id for interval in live}
        update = BulkUpdate(session, STREAMS, OPEN_COLUMNS, "id", bound=OPEN_COLUMNS)
        update.execute([(None, None, stream_id) for stream_id in self.loaded
                        if stream_id not in still_open])
        update.execute([(i.since_bound or stamp(i.since), i.shape_id, i.stream_id)
                        for i in live])
        BulkInsert(session, SPANS, SPAN_COLUMNS, bound=SPAN_COLUMNS).execute(self.spans)


def ingest(session: Session, provider_id: uuid.UUID, owners: Mapping[str, Owner],
           events: Sequence[UsageEvent], *, in_order: bool = False) -> Ingested:
    """Apply ``events`` (one provider's, each resource's in time order) to the open
    intervals, writing a span for every interval an event closes.

    ``owners`` maps provider tenant ids to OCX owners; events of other tenants are
    recorded but count nothing. Idempotent: events ingested before are skipped. An event
    that closes a span is known by that span (its stream and end are unique); the others
    (a resource created, an unattributed tenant's) go to the ledger, ``usage_events``.
    Two workers writing the same new event collide on one of these unique keys: one
    transaction fails, its operation is retried and then finds the event known.
    ``in_order``: the events are sorted by time already.
    """
    if not events:
        return Ingested()
    ordered = events if in_order else sorted(events, key=BY_TIME)
    seen = known_events(session, ordered)
    fresh, keys = [], set()
    for event in ordered:
        if event.source_event_id not in seen:
            seen.add(event.source_event_id)  # a repeat within the batch is a duplicate
            fresh.append(event)
            keys.add((event.resource_kind, event.resource_id))
    applier = _Applier(session, provider_id, owners, _load_open(session, provider_id, keys))
    unattributed = sum(not applier.apply(event) for event in fresh)
    applier.write(session)
    closed = applier.closed
    BulkInsert(session, EVENTS, ("source_event_id", "at")).execute(
        [(e.source_event_id, e.at) for e in fresh if e.source_event_id not in closed])
    return Ingested(events=len(fresh) - unattributed, duplicates=len(ordered) - len(fresh),
                    unattributed=unattributed, spans=len(applier.spans))


def checkpoint(session: Session, at: datetime, *, offering_id: uuid.UUID | None = None) -> int:
    """Close every open interval (of one offering, or all) at ``at`` and reopen it there.

    So a month can be rated up to its end while servers still run. The spans get
    deterministic event ids (:func:`span_event_id`) and end at ``at``: checkpointing the
    same time twice writes nothing the second time (a stream's spans end at distinct
    times). Returns the number of spans written.
    """
    due = [STREAMS.c.open_since < at]
    if offering_id is not None:
        due.append(STREAMS.c.offering_id == offering_id)
    rows = session.execute(select(
        STREAMS.c.id, STREAMS.c.provider_id, STREAMS.c.resource_kind, STREAMS.c.resource_id,
        STREAMS.c.open_shape_id, STREAMS.c.open_since).where(*due)).all()
    if not rows:
        return 0
    shapes = Shapes(session)
    quantity = Quantities(session, shapes.attributes(row.open_shape_id for row in rows))
    spans = [{"stream_id": row.id, "shape_id": row.open_shape_id, "started_at": row.open_since,
              "ended_at": at, "quantity": quantity.decimal(
                  meter_of(row.resource_kind), row.open_shape_id, row.open_since, at),
              "source_event_id": span_event_id(row.provider_id, row.resource_id,
                                               row.open_since, at)}
             for row in rows]
    written = list(session.scalars(
        dialect_insert(session, UsageSpan).on_conflict_do_nothing().returning(UsageSpan.id),
        spans))
    session.execute(STREAMS.update().where(*due).values(open_since=at))
    return len(written)
