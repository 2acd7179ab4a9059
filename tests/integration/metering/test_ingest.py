"""Ingesting events into spans: exact intervals, idempotence, checkpoints (both databases)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ocx.domain.metering.ingest import Ingested, Owner, checkpoint, ingest, span_event_id
from ocx.domain.metering.models import UsageSpan
from ocx.drivers.usage import UsageEvent
from ocx.runtime import Runtime
from tests.integration.metering.conftest import Metered
from tests.integration.metering.support import (
    LARGE,
    SMALL,
    at,
    event,
    hours,
    open_intervals,
    server_life,
    spans,
)

pytestmark = pytest.mark.billing


def owners(metered: Metered) -> dict[str, Owner]:
    return {f"tenant-{side}": Owner(metered.projects[side], metered.allocations[side],
                                    metered.provider_id, metered.offering_id)
            for side in ("a", "b")}


def run(runtime: Runtime, metered: Metered, events: list[UsageEvent]) -> Ingested:
    with runtime.sessions.begin() as session:
        return ingest(session, metered.provider_id, owners(metered), events)


def test_a_server_life_becomes_one_span_per_shape_and_state(runtime: Runtime,
                                                            metered: Metered) -> None:
    result = run(runtime, metered, server_life())
    assert result.events == 5 and result.spans == 4
    assert spans(runtime) == [
        ("srv-1", "compute.server", at(0), at(2), hours(2), "active", 1, None),
        ("srv-1", "compute.server", at(2), at(3), hours(1), "stopped", 1, None),
        ("srv-1", "compute.server", at(3), at(5), hours(2), "active", 1, None),
        ("srv-1", "compute.server", at(5), at(9), hours(4), "active", 4, None)]
    assert open_intervals(runtime) == []


def test_spans_carry_owner_and_attributes(runtime: Runtime, metered: Metered) -> None:
    run(runtime, metered, server_life(tenant="tenant-b")[:2])
    with runtime.sessions() as session:
        (span,) = session.scalars(select(UsageSpan)).all()
        assert (span.project_id, span.allocation_id) == (metered.projects["b"],
                                                         metered.allocations["b"])
        assert (span.provider_id, span.offering_id) == (metered.provider_id,
                                                        metered.offering_id)
        assert span.attributes == {**SMALL, "state": "active"} and span.unit == "hour"
    assert open_intervals(runtime) == [("srv-1", at(2), {**SMALL, "state": "stopped"})]


def test_ingesting_the_same_events_again_changes_nothing(runtime: Runtime,
                                                         metered: Metered) -> None:
    events = server_life()
    run(runtime, metered, events[:3])
    first = spans(runtime)
    again = run(runtime, metered, events[:3])
    assert (again.events, again.duplicates) == (0, 3)
    assert spans(runtime) == first
    # An overlapping batch: only the new events count, once.
    run(runtime, metered, events[1:] + events[1:])
    assert len(spans(runtime)) == 4
    run(runtime, metered, events)
    assert len(spans(runtime)) == 4 and open_intervals(runtime) == []
    # Two old events far apart (more recorded events between them than asked about).
    sparse = run(runtime, metered, [events[0], events[4]])
    assert (sparse.events, sparse.duplicates) == (0, 2) and len(spans(runtime)) == 4
    # ...and with more ledger entries between them too (another tenant's creations, kept
    # there since they close no span): each is then looked up by id, or by time.
    run(runtime, metered, [event(f"other-{n}", 1 + n / 10, {**SMALL, "state": "active"},
                                 tenant="not-ocx") for n in range(5)])
    sparse = run(runtime, metered, [events[0], events[4]])
    assert (sparse.events, sparse.duplicates) == (0, 2) and len(spans(runtime)) == 4


def test_volumes_and_floating_ips(runtime: Runtime, metered: Metered) -> None:
    run(runtime, metered, [
        event("vol-1", 0, {"size_gib": 10, "volume_type": "ssd"}, kind="volume"),
        event("vol-1", 2, {"size_gib": 30}, kind="volume", name="extend"),
        event("vol-1", 3, None, kind="volume", name="delete"),
        event("fip-1", 1, {"address": "203.0.113.5"}, kind="floating_ip"),
        event("fip-1", 1.5, None, kind="floating_ip", name="delete")])
    assert spans(runtime) == [
        ("fip-1", "network.floating_ip", at(1), at(1.5), hours(0.5), None, None, None),
        ("vol-1", "volume.storage", at(0), at(2), hours(20), None, None, 10),
        ("vol-1", "volume.storage", at(2), at(3), hours(30), None, None, 30)]


def test_tenants_outside_ocx_are_ignored(runtime: Runtime, metered: Metered) -> None:
    result = run(runtime, metered, server_life(tenant="admin-project"))
    assert result.unattributed == 5 and spans(runtime) == []


def test_checkpoint_closes_and_reopens_every_open_interval(runtime: Runtime,
                                                          metered: Metered) -> None:
    run(runtime, metered, [event("srv-1", 0, {**LARGE, "state": "active"}),
                           event("srv-2", 1, {**SMALL, "state": "active"}, tenant="tenant-b")])
    with runtime.sessions.begin() as session:
        assert checkpoint(session, at(4)) == 2
    with runtime.sessions.begin() as session:
        assert checkpoint(session, at(4)) == 0  # the same cut again: nothing new
    assert spans(runtime) == [
        ("srv-1", "compute.server", at(0), at(4), hours(4), "active", 4, None),
        ("srv-2", "compute.server", at(1), at(4), hours(3), "active", 1, None)]
    assert [since for _, since, _ in open_intervals(runtime)] == [at(4), at(4)]
    run(runtime, metered, [event("srv-1", 6, None)])
    assert spans(runtime)[1][:4] == ("srv-1", "compute.server", at(4), at(6))
    with runtime.sessions() as session:
        ids = set(session.scalars(select(UsageSpan.source_event_id)))
    assert span_event_id(metered.provider_id, "srv-1", at(0), at(4)) in ids


def test_an_event_older_than_a_checkpoint_is_counted_from_the_checkpoint(
        runtime: Runtime, metered: Metered) -> None:
    run(runtime, metered, [event("srv-1", 0, {**SMALL, "state": "active"})])
    with runtime.sessions.begin() as session:
        checkpoint(session, at(5))
    run(runtime, metered, [event("srv-1", 4, {"state": "stopped"})])
    assert open_intervals(runtime) == [("srv-1", at(5), {**SMALL, "state": "stopped"})]
    assert len(spans(runtime)) == 1
