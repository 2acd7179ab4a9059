"""Reading usage: a project's spans over a period, for its people and its organization."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from ocx.domain import policy
from ocx.domain.actor import Actor
from ocx.domain.identity import service as identity
from ocx.domain.metering.meters import QUANTUM, meter_of
from ocx.domain.metering.models import UsageShape, UsageSpan, UsageStream
from ocx.domain.metering.schemas import MeterTotal, UsageReport, UsageSpanPublic
from ocx.domain.policy import Action
from ocx.errors import InvalidInput
from ocx.persistence.base import utcnow

MAX_SPANS = 10_000
# What a report says of a span: its stream's resource, meter and offering, its shape.
SPAN_COLUMNS = (UsageStream.resource_kind, UsageStream.resource_id, UsageStream.meter,
                UsageStream.unit, UsageStream.offering_id, UsageSpan.quantity,
                UsageSpan.started_at, UsageSpan.ended_at, UsageShape.attributes)


def cut(span: Row[Any], start: datetime, end: datetime) -> UsageSpanPublic:
    """``span`` (a row of SPAN_COLUMNS) restricted to [start, end): time-based
    quantities kept in proportion."""
    kept_from, kept_to = max(span.started_at, start), min(span.ended_at, end)
    whole = (span.ended_at - span.started_at).total_seconds()
    share = Decimal(1) if whole == 0 else (
        Decimal(str((kept_to - kept_from).total_seconds())) / Decimal(str(whole)))
    return UsageSpanPublic(
        resource_kind=span.resource_kind, resource_id=span.resource_id, meter=span.meter,
        unit=span.unit, quantity=(span.quantity * share).quantize(QUANTUM),
        started_at=kept_from, ended_at=kept_to, attributes=dict(span.attributes),
        offering_id=span.offering_id, open=False)


def _open(stream: UsageStream, since: datetime, start: datetime, end: datetime
          ) -> UsageSpanPublic:
    kept_from, kept_to = max(since, start), min(utcnow(), end)
    meter = meter_of(stream.resource_kind)
    attributes = stream.open_shape.attributes if stream.open_shape else {}
    return UsageSpanPublic(
        resource_kind=stream.resource_kind, resource_id=stream.resource_id,
        meter=meter.name, unit=meter.unit,
        quantity=meter.quantity(attributes, kept_from, kept_to),
        started_at=kept_from, ended_at=kept_to, attributes=dict(attributes),
        offering_id=stream.offering_id, open=True)


def project_usage(session: Session, actor: Actor, project_ref: str, start: datetime,
                  end: datetime) -> UsageReport:
    """The project's usage in [start, end): recorded spans and running resources.

    Raises:
        NotFound: no such project, or one the actor may not see.
        InvalidInput: the period is empty or reversed.
    """
    if end <= start:
        raise InvalidInput("the period must end after it starts (--to after --from)")
    project = identity.find_project(session, project_ref, actor)
    policy.authorize(actor, Action.USAGE_READ, identity.project_target(project))
    spans = [cut(s, start, end) for s in session.execute(
        select(*SPAN_COLUMNS).select_from(UsageSpan)
        .join(UsageStream, UsageStream.id == UsageSpan.stream_id)
        .join(UsageShape, UsageShape.id == UsageSpan.shape_id)
        .where(UsageStream.project_id == project.id, UsageSpan.started_at < end,
               UsageSpan.ended_at > start)
        .order_by(UsageSpan.started_at).limit(MAX_SPANS))]
    for stream in session.scalars(select(UsageStream).where(
            UsageStream.project_id == project.id, UsageStream.open_since < end)):
        since = cast(datetime, stream.open_since)  # set: ``open_since < end`` held
        if min(utcnow(), end) > max(since, start):
            spans.append(_open(stream, since, start, end))
    return UsageReport(project_id=project.id,
                       project=f"{project.organization.name}:{project.name}",
                       started_at=start, ended_at=end, totals=totals(spans), spans=spans)


def totals(spans: list[UsageSpanPublic]) -> list[MeterTotal]:
    """The quantity of each meter over the spans."""
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for span in spans:
        sums[(span.meter, span.unit)] += span.quantity
    return [MeterTotal(meter=m, unit=u, quantity=q) for (m, u), q in sorted(sums.items())]
