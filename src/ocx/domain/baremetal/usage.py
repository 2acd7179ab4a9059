"""Usage spans from lease ends: one span per lease, keyed by the event that ended it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ocx.domain.baremetal.models import Lease
from ocx.domain.metering.meters import QUANTUM, hours_between
from ocx.domain.metering.models import UsageSpan
from ocx.domain.metering.streams import SpanRecord, StreamOf, record_span, stream_ids

RESOURCE_KIND = "baremetal.node"


def lease_end_event(lease: Lease) -> str:
    """The id of the event "this lease ended" (one per lease, whatever ended it)."""
    return f"baremetal.lease:{lease.id}:end"


def hours(started_at: datetime, ended_at: datetime) -> Decimal:
    """Hours between two times, exact to the microhour (Decimal, never float)."""
    return hours_between(started_at, ended_at).quantize(QUANTUM)


def lease_stream(lease: Lease) -> StreamOf:
    """The lessee project's usage of the lease's node (outside any allocation)."""
    return StreamOf(project_id=lease.project_id, allocation_id=None, provider_id=None,
                    offering_id=None, user_id=None, resource_kind=RESOURCE_KIND,
                    resource_id=str(lease.node_id),
                    meter=f"baremetal.node_hours.{lease.node.resource_class}", unit="hour")


def record_lease_usage(session: Session, lease: Lease, ended_at: datetime) -> UsageSpan:
    """The lessee project used the node from its lease's start until ``ended_at``; the
    span kept is returned.

    Once per lease, whatever ``ended_at`` a retry passes: a span of the lease's stream
    already closed by its end event is returned as it is (looked up from the lease's
    start, on the spans' index by end). Concurrent ends of one lease are settled before
    this, by the node's lock (``isolation.journal``); the same end recorded twice
    concurrently meets on the spans' unique (end, stream).
    """
    started_at = lease.started_at or lease.starts_at
    stream = lease_stream(lease)
    event_id = lease_end_event(lease)
    stream_id = stream_ids(session, [stream])[stream.key]
    recorded = session.scalar(select(UsageSpan).where(
        UsageSpan.ended_at >= started_at, UsageSpan.stream_id == stream_id,
        UsageSpan.source_event_id == event_id))
    if recorded is not None:
        return recorded
    return record_span(session, SpanRecord(
        stream=stream, attributes={},
        quantity=hours(started_at, ended_at), started_at=started_at, ended_at=ended_at,
        source_event_id=event_id))
