"""Collectors run as journalled operations: cursors, month checkpoints, and restarts
that lose nothing and count nothing twice (both databases)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from ocx.domain.allocations.models import Allocation
from ocx.domain.allocations.states import AllocationState
from ocx.domain.marketplace.models import Offering
from ocx.domain.metering.collection import schedule_collection
from ocx.domain.metering.models import UsageCursor
from ocx.domain.operations.models import Operation
from ocx.drivers.usage import fake as fake_feed
from ocx.errors import DriverError
from ocx.runtime import Runtime
from ocx.workers.periodic import periodic_jobs, run_periodic_job
from tests.integration.metering.conftest import Metered, collect
from tests.integration.metering.support import (
    SMALL,
    T0,
    at,
    hours,
    server_life,
    spans,
)
from tests.integration.metering.support import event as usage_event
from tests.support.operations import run_due_operations

pytestmark = pytest.mark.billing


class Killed(Exception):
    """The worker died here."""


@contextmanager
def killed_at(engine: Engine, statement: int) -> Iterator[list[int]]:
    """The ``statement``-th SQL statement from now (0: the COMMIT) never happens."""
    seen = [0]

    def before(*_: Any) -> None:
        seen[0] += 1
        if seen[0] == statement:
            raise Killed(f"killed before statement {statement}")

    def on_commit(*_: Any) -> None:
        if statement == 0:
            raise Killed("killed before COMMIT")

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "commit", on_commit)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "commit", on_commit)


def test_collection_records_spans_and_moves_the_cursor(runtime: Runtime,
                                                       metered: Metered) -> None:
    fake_feed.publish(metered.cloud, *server_life(), *server_life("srv-2", "tenant-b"))
    result = collect(runtime, metered.offering_id)
    assert (result["events"], result["spans"]) == (10, 8)
    with runtime.sessions() as session:
        cursor = session.scalar(select(UsageCursor))
        assert cursor is not None and cursor.position["until"] == result["until"]
    again = collect(runtime, metered.offering_id)
    assert again["events"] == 0 and len(spans(runtime)) == 8


def test_a_collector_killed_anywhere_loses_nothing_and_counts_nothing_twice(
        runtime: Runtime, metered: Metered) -> None:
    life = server_life()
    fake_feed.publish(metered.cloud, *life)
    collect(runtime, metered.offering_id, until=at(2.5))  # a first batch, committed
    statement, failures = 0, 0
    while True:  # kill the second batch before each of its statements (and its COMMIT) in turn
        with killed_at(runtime.engine, statement) as seen:
            try:
                collect(runtime, metered.offering_id, until=at(10))
                break
            except Killed:
                failures += 1
                assert len(spans(runtime)) == 1, f"a half batch survived {statement}"
        statement += 1
        assert seen[0] < 1000
    assert failures >= 5
    assert spans(runtime) == reference_spans()
    collect(runtime, metered.offering_id, until=at(10))  # a rerun after success adds nothing
    assert spans(runtime) == reference_spans()


def reference_spans() -> list[tuple[Any, ...]]:
    """The spans of ``server_life()`` ingested once, without trouble."""
    return [("srv-1", "compute.server", at(0), at(2), hours(2), "active", 1, None),
            ("srv-1", "compute.server", at(2), at(3), hours(1), "stopped", 1, None),
            ("srv-1", "compute.server", at(3), at(5), hours(2), "active", 1, None),
            ("srv-1", "compute.server", at(5), at(9), hours(4), "active", 4, None)]


def test_months_are_cut_at_their_start_while_servers_run(runtime: Runtime,
                                                         metered: Metered) -> None:
    late = usage_event("srv-9", 0, {**SMALL, "state": "active"})
    start = datetime(2026, 9, 30, 22, 0, tzinfo=UTC)
    fake_feed.publish(metered.cloud, replace(late, at=start))
    collect(runtime, metered.offering_id)
    found = spans(runtime)
    assert [(s[2], s[3]) for s in found] == [
        (start, datetime(2026, 10, 1, tzinfo=UTC)),
        (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))]
    assert found[0][4] == 2 and found[1][4] == 31 * 24
    assert T0.month == 10


def test_collection_runs_periodically_per_metered_offering(runtime: Runtime,
                                                          metered: Metered) -> None:
    with runtime.sessions.begin() as session:  # an offering no usage collector serves
        provider = session.get(Offering, metered.offering_id)
        assert provider is not None
        other = Offering(provider_id=provider.provider_id, name="k8s", kind="kubernetes",
                         driver="no-such-collector", driver_settings={}, components=[])
        session.add(other)
        session.flush()
        session.add(Allocation(project_id=metered.projects["a"], offering_id=other.id,
                               state=AllocationState.ACTIVE, quota={}, starts_at=T0,
                               external_id="ns-a"))
    (job,) = [j for j in periodic_jobs(runtime.settings) if j.name == "usage_collect"]
    assert run_periodic_job(runtime.sessions, job, "w1")
    assert not run_periodic_job(runtime.sessions, job, "w2")  # the same slot: once
    with runtime.sessions() as session:
        (op,) = session.scalars(select(Operation).where(Operation.kind == "usage.collect"))
        assert op.target_id == str(metered.offering_id)
    fake_feed.publish(metered.cloud, *server_life())
    assert run_due_operations(runtime) == 1  # the worker runs it with its own handlers
    assert len(spans(runtime)) == 4
    with runtime.sessions.begin() as session:
        assert schedule_collection(session) == 1


def test_an_unreachable_provider_is_retried(runtime: Runtime, metered: Metered) -> None:
    with runtime.sessions.begin() as session:
        offering = session.get(Offering, metered.offering_id)
        assert offering is not None
        offering.driver_settings = {"cloud": metered.cloud, "down": True}
    with pytest.raises(DriverError):
        collect(runtime, metered.offering_id)
