"""Ingestion writes its rows as the database driver takes them (``metering.bulk``):
what it wrote reads back through the ORM as the same values (both databases)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ocx.domain.metering.bulk import COPY_FROM, BulkInsert
from ocx.domain.metering.ingest import Owner, ingest
from ocx.domain.metering.models import IngestedEvent, OpenInterval, UsageSpan
from ocx.runtime import Runtime
from tests.integration.metering.conftest import Metered
from tests.integration.metering.support import SMALL, at, event, server_life

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
        (live,) = session.scalars(select(OpenInterval)).all()
        assert [s.source_event_id for s in spans] == [e.source_event_id for e in life[1:]]
        ids = [s.id for s in spans] + [live.id]
        assert len(set(ids)) == 5 and {i.version for i in ids} == {4}
        assert {(s.project_id, s.allocation_id, s.provider_id, s.offering_id, s.user_id)
                for s in spans} == {(metered.projects["a"], metered.allocations["a"],
                                     metered.provider_id, metered.offering_id, None)}
        assert (live.project_id, live.allocation_id, live.since, live.attributes) == (
            metered.projects["b"], metered.allocations["b"], at(1),
            {**SMALL, "state": "active"})
        assert [(s.started_at, s.ended_at, s.attributes["state"], s.attributes["vcpus"])
                for s in spans] == [(at(0), at(2), "active", 1), (at(2), at(3), "stopped", 1),
                                    (at(3), at(5), "active", 1), (at(5), at(9), "active", 4)]
        # The ORM finds them by id, as any other row.
        assert session.get(UsageSpan, spans[0].id) is spans[0]
        assert session.get(OpenInterval, uuid.UUID(str(live.id))) is live


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
