"""Running collectors: one journalled ``usage.collect`` operation per offering and period.

The worker reads the offering's cursor, asks the collector for what changed since, and
commits the spans, the open intervals and the new cursor in ONE transaction. A worker
killed at any point therefore either committed all of a batch or none of it; the next
run reads the same changes again, and the event ledger drops what was already counted.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ocx.domain.actor import SYSTEM
from ocx.domain.allocations.models import Allocation
from ocx.domain.marketplace.models import Offering
from ocx.domain.metering.bulk import collector_paused
from ocx.domain.metering.ingest import BY_TIME, Ingested, Owner, checkpoint, ingest
from ocx.domain.metering.models import UsageCursor, UsageStream
from ocx.domain.operations import service as operations
from ocx.domain.operations.handlers import HandlerContext, OperationRef
from ocx.drivers import stored_settings as driver_settings
from ocx.drivers.registry import DriverRegistry
from ocx.drivers.usage import UsageCollector, UsageEvent
from ocx.persistence.base import utcnow
from ocx.persistence.db import transaction

COLLECT = "usage.collect"
# Providers record a change a moment after it happens: events this recent wait a run.
SETTLE = timedelta(seconds=5)
COLLECT_PERIOD_S = 60.0


def schedule_collection(session: Session, now: datetime | None = None) -> int:
    """Enqueue one collect operation per metered offering with tenants (periodic job):
    those whose driver also names an installed usage collector."""
    stamp = (now or utcnow()).strftime("%Y%m%dT%H%M%S")
    collectors = DriverRegistry().names(UsageCollector)
    offerings = set(session.scalars(select(Allocation.offering_id).join(Offering).where(
        Allocation.external_id.is_not(None), Offering.driver.in_(collectors))))
    for offering_id in offerings:
        operations.enqueue(session, SYSTEM, kind=COLLECT, target=("offering", offering_id),
                           idempotency_key=f"{COLLECT}:{offering_id}:{stamp}")
    return len(offerings)


def owners_of(session: Session, offering: Offering) -> dict[str, Owner]:
    """Provider tenant id -> OCX owner, for every allocation of the offering with a tenant
    (released ones too: their resources are billed until they are gone)."""
    rows = session.execute(select(Allocation.external_id, Allocation.project_id, Allocation.id)
                           .where(Allocation.offering_id == offering.id,
                                  Allocation.external_id.is_not(None)))
    return {str(external_id): Owner(project_id=project_id, allocation_id=allocation_id,
                               provider_id=offering.provider_id, offering_id=offering.id)
            for external_id, project_id, allocation_id in rows}


def month_starts(after: datetime | None, until: datetime) -> list[datetime]:
    """The first instants of months in (``after``, ``until``]."""
    if after is None:
        return []
    starts: list[datetime] = []
    month = datetime(after.year, after.month, 1, tzinfo=UTC)
    while True:
        month = (month + timedelta(days=32)).replace(day=1)
        if month > until:
            return starts
        starts.append(month)


def _cursor(session: Session, offering: Offering) -> UsageCursor:
    # Locked (PostgreSQL): two workers recording the same offering take turns.
    cursor = session.scalar(select(UsageCursor).where(
        UsageCursor.offering_id == offering.id).with_for_update())
    if cursor is None:
        cursor = UsageCursor(provider_id=offering.provider_id, offering_id=offering.id,
                             position={})
        session.add(cursor)
        session.flush()
    return cursor


def record_batch(session: Session, offering: Offering, events: list[UsageEvent],
                 position: dict[str, Any], until: datetime) -> Ingested:
    """Ingest a collector's batch and move the offering's cursor, in the caller's
    transaction; open intervals are checkpointed at each month start crossed."""
    with collector_paused():
        return _record(session, offering, events, position, until)


def _record(session: Session, offering: Offering, events: list[UsageEvent],
            position: dict[str, Any], until: datetime) -> Ingested:
    cursor = _cursor(session, offering)
    owners = owners_of(session, offering)
    total = Ingested()
    remaining = sorted(events, key=BY_TIME)
    # The first batch has no cursor yet: its months start at its first event.
    after = cursor.collected_until or (remaining[0].at if remaining else None)
    for boundary in month_starts(after, until):
        before = [e for e in remaining if e.at < boundary]
        remaining = remaining[len(before):]
        total += ingest(session, offering.provider_id, owners, before, in_order=True)
        checkpoint(session, boundary, offering_id=offering.id)
    total += ingest(session, offering.provider_id, owners, remaining, in_order=True)
    cursor.position, cursor.collected_until = position, until
    return total


def collect_offering(ctx: HandlerContext, op: OperationRef) -> dict[str, Any]:
    """``usage.collect``: read the offering's provider changes since its cursor and
    record them as spans, with the new cursor, in one transaction."""
    offering_id = uuid.UUID(op.target_id)
    with ctx.sessions() as session:
        offering = session.get(Offering, offering_id)
        if offering is None or offering.driver not in ctx.drivers.names(UsageCollector):
            return {"collector": None}
        collector = driver_settings.build(ctx.drivers, ctx.sealer, UsageCollector,
                                          offering.driver, offering.driver_settings)
        cursor = session.scalar(select(UsageCursor).where(
            UsageCursor.offering_id == offering_id))
        position = dict(cursor.position) if cursor else {}
        tenants = set(owners_of(session, offering))
        seen_until = cursor.collected_until if cursor else None
        live = {rid: kind for rid, kind in session.execute(
            select(UsageStream.resource_id, UsageStream.resource_kind)
            .where(UsageStream.offering_id == offering_id,
                   UsageStream.open_since.is_not(None)))}
    until = utcnow() - SETTLE
    if "until" in op.payload:  # a backfill (or a test) up to a given time
        until = min(until, datetime.fromisoformat(str(op.payload["until"])))
    batch = collector.collect(position, tenants, live, until)  # no transaction open meanwhile
    with transaction(ctx.sessions) as session:
        offering = session.get(Offering, offering_id)
        current = _cursor(session, offering) if offering else None
        if offering is None or current is None or current.collected_until != seen_until:
            return {"raced": True}  # another worker moved the cursor: its batch counts
        done = record_batch(session, offering, batch.events, batch.position, until)
    return {"events": done.events, "duplicates": done.duplicates,
            "unattributed": done.unattributed, "spans": done.spans,
            "until": until.isoformat()}
