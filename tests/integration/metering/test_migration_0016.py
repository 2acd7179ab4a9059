"""Migration 0016 moves existing spans, open intervals and invoice lines' span ids over
to usage streams and shapes, on both backends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Column, Engine, MetaData, Table, Uuid, select
from sqlalchemy.orm import Session

from ocx.domain.billing.models import Invoice, InvoiceLine
from ocx.domain.billing.states import InvoiceKind, InvoiceState
from ocx.domain.identity.models import Organization, Project
from ocx.domain.marketplace.models import Offering, Provider
from ocx.domain.metering.models import IngestedEvent, UsageSpan, UsageStream
from ocx.domain.metering.streams import SpanRecord, StreamOf, record_span
from ocx.persistence.db import make_engine
from ocx.persistence.migrate import upgrade
from tests.servers.postgres import temporary_database

T0 = datetime(2026, 10, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
SERVER = {"flavor": "m1.small", "vcpus": 1, "ram_mib": 4096, "state": "active"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def at_0015(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database migrated up to 0015 only."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ocx.db'}"
        engine = make_engine(url)
        upgrade(engine, "0015")
        yield engine
        engine.dispose()
        return
    with temporary_database(request.getfixturevalue("postgres_admin_dsn")) as url:
        engine = make_engine(url)
        upgrade(engine, "0015")
        yield engine
        engine.dispose()


def test_spans_intervals_and_invoice_lines_move_over(at_0015: Engine) -> None:
    engine = at_0015
    with Session(engine) as session, session.begin():
        org = Organization(name="bayview")
        session.add(org)
        session.flush()
        project = Project(organization_id=org.id, name="genomics")
        provider = Provider(organization_id=org.id, name="harbor")
        session.add_all([project, provider])
        session.flush()
        offering = Offering(provider_id=provider.id, name="compute", kind="openstack",
                            driver="fake", driver_settings={}, components=[])
        session.add(offering)
        session.flush()
        ids = (org.id, project.id, provider.id, offering.id)
    org_id, project_id, provider_id, offering_id = ids
    allocation_id = uuid.uuid4()
    old_ids = [uuid.uuid4() for _ in range(4)]
    meta = MetaData()
    with engine.begin() as conn:
        # The old tables as 0015 left them, their ids typed as UUIDs again.
        def ids_of(*extra: str) -> list[Column[uuid.UUID]]:
            return [Column(name, Uuid, primary_key=name == "id") for name in (
                "id", "project_id", "allocation_id", "provider_id", "offering_id", *extra)]

        spans = Table("usage_spans", meta, *ids_of("user_id"), autoload_with=conn)
        intervals = Table("usage_open_intervals", meta, *ids_of(), autoload_with=conn)
        owner = {"project_id": project_id, "allocation_id": allocation_id,
                 "provider_id": provider_id, "offering_id": offering_id,
                 "resource_kind": "server", "meter": "compute.server", "unit": "hour"}
        conn.execute(spans.insert(), [
            {**owner, "id": old_ids[0], "resource_id": "vm-1", "quantity": Decimal("1"),
             "started_at": T0, "ended_at": T0 + HOUR, "source_event_id": "e1",
             "attributes": SERVER, "created_at": T0, "updated_at": T0, "user_id": None},
            {**owner, "id": old_ids[1], "resource_id": "vm-1", "quantity": Decimal("2"),
             "started_at": T0 + HOUR, "ended_at": T0 + 3 * HOUR, "source_event_id": "e2",
             "attributes": {**SERVER, "state": "stopped"}, "created_at": T0,
             "updated_at": T0, "user_id": None},
            {**owner, "id": old_ids[2], "resource_id": "vm-2", "quantity": Decimal("0.5"),
             "started_at": T0, "ended_at": T0 + HOUR / 2, "source_event_id": "e3",
             "attributes": SERVER, "created_at": T0, "updated_at": T0, "user_id": None},
            # The same resource's span ending at the same time again (an old race).
            {**owner, "id": old_ids[3], "resource_id": "vm-2", "quantity": Decimal("0.25"),
             "started_at": T0 + HOUR / 4, "ended_at": T0 + HOUR / 2, "source_event_id": "e4",
             "attributes": SERVER, "created_at": T0, "updated_at": T0, "user_id": None}])
        conn.execute(intervals.insert(), [{
            "id": uuid.uuid4(), "provider_id": provider_id, "offering_id": offering_id,
            "project_id": project_id, "allocation_id": allocation_id,
            "resource_kind": "server", "resource_id": "vm-1", "attributes": SERVER,
            "since": T0 + 3 * HOUR, "last_event_id": "e2"}])
    with Session(engine) as session, session.begin():
        invoice = Invoice(key="bayview:2026-10", organization_id=org_id,
                          kind=InvoiceKind.INVOICE, state=InvoiceState.DRAFT,
                          period="2026-10", period_start=T0, period_end=T0 + 31 * 24 * HOUR,
                          currency="USD", subtotal=Decimal(0), credits_total=Decimal(0),
                          total=Decimal(0))
        session.add(invoice)
        session.flush()
        session.add(InvoiceLine(
            invoice_id=invoice.id, position=0, project_id=project_id, resource_kind="server",
            resource_id="vm-1", meter="compute.server", component="cpu_su",
            quantity=Decimal(3), unit="SU-hour", unit_price=Decimal(1), amount=Decimal(3),
            span_ids=[str(old_ids[0]), str(old_ids[1])]))

    upgrade(engine)

    with Session(engine) as session:
        moved = session.scalars(select(UsageSpan).order_by(UsageSpan.ended_at,
                                                           UsageSpan.id)).all()
        assert [(s.resource_id, s.quantity, s.source_event_id, s.attributes["state"])
                for s in moved] == [("vm-2", Decimal("0.5"), "e3", "active"),
                                    ("vm-1", Decimal("1"), "e1", "active"),
                                    ("vm-1", Decimal("2"), "e2", "stopped")]
        assert {s.project_id for s in moved} == {project_id}
        assert {s.offering_id for s in moved} == {offering_id}
        streams = session.scalars(select(UsageStream).order_by(UsageStream.resource_id)).all()
        assert [s.resource_id for s in streams] == ["vm-1", "vm-2"]
        vm1 = streams[0]
        # The key is the one the application computes, so new spans join the same stream.
        assert vm1.key == StreamOf(project_id, allocation_id, provider_id, offering_id, None,
                                   "server", "vm-1", "compute.server", "hour").key
        assert vm1.open_since == T0 + 3 * HOUR
        assert vm1.open_shape is not None and vm1.open_shape.attributes == SERVER
        assert streams[1].open_since is None
        (line,) = session.scalars(select(InvoiceLine)).all()
        by_event = {s.source_event_id: s.id for s in moved}
        assert line.span_ids == sorted([by_event["e1"], by_event["e2"]])
        # The second span at one end was not moved, and its event stays known.
        assert session.get(IngestedEvent, "e4") is not None
    with Session(engine) as session, session.begin():  # new spans get new ids
        added = record_span(session, SpanRecord(
            StreamOf(project_id, None, provider_id, offering_id, None, "server", "vm-3",
                     "compute.server", "hour"), SERVER, Decimal(1), T0, T0 + HOUR, "e5"))
        session.flush()
        assert added.id > max(by_event.values())
