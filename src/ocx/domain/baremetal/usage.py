"""Usage spans from lease ends: one span per lease, keyed by the event that ended it."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ocx.domain.baremetal.models import Lease
from ocx.domain.metering.models import UsageSpan

RESOURCE_KIND = "baremetal.node"
MICROSECOND = timedelta(microseconds=1)
MICROSECONDS_PER_HOUR = Decimal(3_600_000_000)
QUANTUM = Decimal("0.000001")


def lease_end_event(lease: Lease) -> str:
    """The id of the event "this lease ended" (one per lease, whatever ended it)."""
    return f"baremetal.lease:{lease.id}:end"


def record_span(session: Session, span: UsageSpan) -> UsageSpan:
    """Insert ``span`` unless its source event was already recorded; the span kept.

    The unique ``source_event_id`` makes this safe under retries and races: a second
    ingestion of the same event (even concurrent) leaves the first span as it is.
    """
    existing = session.scalar(select(UsageSpan).where(
        UsageSpan.source_event_id == span.source_event_id))
    if existing is not None:
        return existing
    try:
        with session.begin_nested():
            session.add(span)
    except IntegrityError:
        raced = session.scalar(select(UsageSpan).where(
            UsageSpan.source_event_id == span.source_event_id))
        if raced is None:
            raise
        return raced
    return span


def hours(started_at: datetime, ended_at: datetime) -> Decimal:
    """Hours between two times, exact to the microhour (Decimal, never float)."""
    micro = (ended_at - started_at) // MICROSECOND
    return (Decimal(micro) / MICROSECONDS_PER_HOUR).quantize(QUANTUM)


def record_lease_usage(session: Session, lease: Lease, ended_at: datetime) -> UsageSpan:
    """The lessee project used the node from its lease's start until ``ended_at``."""
    started_at = lease.started_at or lease.starts_at
    return record_span(session, UsageSpan(
        project_id=lease.project_id, allocation_id=None, resource_kind=RESOURCE_KIND,
        resource_id=str(lease.node_id), meter=f"baremetal.node_hours.{lease.node.resource_class}",
        quantity=hours(started_at, ended_at), unit="hour", started_at=started_at,
        ended_at=ended_at, source_event_id=lease_end_event(lease)))

