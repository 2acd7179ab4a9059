"""Ingestion writes its rows as the database driver takes them (``metering.bulk``):
what it wrote (spans, their streams and shapes) reads back through the ORM as the same
values (both databases)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ocx.domain.metering.bulk import COPY_FROM, BulkInsert
from ocx.domain.metering.ingest import Owner, ingest
from ocx.domain.metering.models import IngestedEvent, UsageShape, UsageSpan, UsageStream
from ocx.domain.metering.streams import shape_key
from ocx.runtime import Runtime
from tests.integration.metering.conftest import Metered
from tests.integration.metering.support import SMALL, at, event, hours, server_life

pytestmark = pytest.mark.billing


def owners(metered: Metered) -> dict[str, Owner]:
    return {f"tenant-{side}": Owner(metered.projects[side], metered.allocations[side],
                                    metered.provider_id, metered.offering_id)
            for side in ("a", "b")}


def test_rows_written_raw_read_back_as_themselves(runtime: Runtime,
                                                  metered: Metered) -> None:
    life = server_life()
    for batch in (life[:2], life[2:4], [event("srv-2", 1, {**SMALL, "state": "active"},
                                              tenant="tenant-b")], life[4:]):
        with runtime.sessions.begin() as session:
            ingest(session, metered.provider_id, owners(metered), batch)
    with runtime.sessions() as session:
        spans = session.scalars(select(UsageSpan).order_by(UsageSpan.started_at)).all()
        gone, live = session.scalars(select(UsageStream).order_by(UsageStream.resource_id))
        assert [s.source_event_id for s in spans] == [e.source_event_id for e in life[1:]]
        assert len({s.id for s in spans}) == 4 and {s.stream_id for s in spans} == {gone.id}
        assert (gone.project_id, gone.allocation_id, gone.provider_id, gone.offering_id,
                gone.user_id, gone.resource_kind, gone.resource_id, gone.meter, gone.unit) == (
            metered.projects["a"], metered.allocations["a"], metered.provider_id,
            metered.offering_id, None, "server", "srv-1", "compute.server", "hour")
        assert (gone.open_since, gone.open_shape_id) == (None, None)
        assert (live.project_id, live.allocation_id, live.open_since) == (
            metered.projects["b"], metered.allocations["b"], at(1))
        assert live.open_shape is not None
        assert live.open_shape.attributes == {**SMALL, "state": "active"}
        assert [(s.started_at, s.ended_at, s.quantity, s.attributes["state"],
                 s.attributes["vcpus"]) for s in spans] == [
            (at(0), at(2), hours(2), "active", 1), (at(2), at(3), hours(1), "stopped", 1),
            (at(3), at(5), hours(2), "active", 1), (at(5), at(9), hours(4), "active", 4)]
        # Each distinct set of attributes is one shape, whoever has it.
        shapes = session.scalars(select(UsageShape)).all()
        assert len(shapes) == 3 and {s.key for s in shapes} == {
            shape_key(s.attributes) for s in shapes}
        assert spans[0].shape_id == spans[2].shape_id == live.open_shape_id
        # A span's owner reads from its stream, in Python and in SQL.
        assert {(s.project_id, s.offering_id, s.meter) for s in spans} == {
            (metered.projects["a"], metered.offering_id, "compute.server")}
        assert session.scalar(select(func.count()).select_from(UsageSpan).where(
            UsageSpan.project_id == metered.projects["a"],
            UsageSpan.resource_id == "srv-1")) == 4
        # The ORM finds them by id, as any other row.
        assert session.get(UsageSpan, spans[0].id) is spans[0]
        assert session.get(UsageStream, live.id) is live
        assert session.get(UsageShape, spans[0].shape_id) is spans[0].shape


def test_bulk_inserts_of_many_rows_keep_the_constraints(runtime: Runtime) -> None:
    """Past COPY_FROM rows PostgreSQL loads them with COPY: the rows read back as
    written, and a duplicate key still fails the statement as an IntegrityError."""
    rows = [(f"bulk-{n:04d}", at(n / 60)) for n in range(COPY_FROM + 50)]
    with runtime.sessions.begin() as session:
        BulkInsert(session, IngestedEvent.__table__, ("source_event_id", "at")).execute(rows)
    with runtime.sessions() as session:
        found = session.execute(select(IngestedEvent.source_event_id, IngestedEvent.at)
                                .order_by(IngestedEvent.source_event_id)).all()
        assert [tuple(row) for row in found] == rows
    with pytest.raises(IntegrityError), runtime.sessions.begin() as session:
        BulkInsert(session, IngestedEvent.__table__, ("source_event_id", "at")).execute(
            [(f"new-{n}", at(0)) for n in range(COPY_FROM)] + rows[-1:])
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(IngestedEvent)) == len(rows)
