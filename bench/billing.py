"""A month of 10,000 servers in 2,000 projects: OCX's event ingestion vs polling.

Generates October 2026 for N servers (5 per project) as provider events on a 5-minute
grid: each server is created, then goes through stops/starts, shelves/unshelves and
resizes (~50 lifecycle events per server, ~500k in all), and a fifth are deleted in
the last week. Then, in the same run:

- OCX: the events are ingested into usage spans the way collectors hand them over
  (``metering.collection.record_batch``, in batches by time, each in one transaction,
  with the month cut at its end), on SQLite (and PostgreSQL with ``--postgres``);
- the polling baseline: every server's state sampled every 5 minutes, as a poller
  asking the provider about each server would (here the cheapest possible "ask": a
  look-up in memory), aggregated into one row per server, hour, state and shape and
  stored in the same database (raw ``executemany``, no ORM: the cheapest write).

Both must reach the same totals (asserted to the minute per state and shape); the
times and their ratio are printed.

    PYTHONPATH=. .venv/bin/python bench/billing.py                     # 10,000 servers
    PYTHONPATH=. .venv/bin/python bench/billing.py --servers 1000 --postgres \\
        postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import bisect
import random
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, func, select
from tests.servers.postgres import temporary_database

from ocx.domain.allocations.models import Allocation
from ocx.domain.allocations.states import AllocationState
from ocx.domain.identity.models import Organization, Project
from ocx.domain.marketplace.models import Offering, Provider
from ocx.domain.metering.collection import record_batch
from ocx.domain.metering.models import UsageShape, UsageSpan
from ocx.drivers.usage import UsageEvent
from ocx.persistence.db import make_engine
from ocx.persistence.migrate import upgrade

MONTH_START = datetime(2026, 10, 1, tzinfo=UTC)
MONTH_END = datetime(2026, 11, 1, tzinfo=UTC)
STEP = timedelta(minutes=5)
SLOTS = int((MONTH_END - MONTH_START) / STEP)  # 8,928 five-minute slots in October
FLAVORS = [{"flavor": f"m1.{name}", "vcpus": vcpus, "ram_mib": vcpus * 4096, "gpus": 0,
            "gpu_type": None} for name, vcpus in (("small", 1), ("medium", 2),
                                                   ("large", 4), ("xlarge", 8))]
MOVES = {"active": ["stopped", "shelved", "suspended", "resize"], "stopped": ["active"],
         "shelved": ["active"], "suspended": ["active"]}
BATCHES = 31  # collector batches: one per day of the month
Shape = tuple[str, int]  # (state, vcpus)


@dataclass(frozen=True)
class Took:
    """Seconds of wall-clock and of this process's CPU."""

    wall: float
    cpu: float

    def __add__(self, other: Took) -> Took:
        return Took(self.wall + other.wall, self.cpu + other.cpu)


def generate(servers: int, events_per_server: int, seed: int) -> list[UsageEvent]:
    """The month's lifecycle events, on the 5-minute grid, every server's in order."""
    rng = random.Random(seed)
    events: list[UsageEvent] = []
    for n in range(servers):
        sid, tenant = f"server-{n:05d}", f"tenant-{n // 5:04d}"
        created = rng.randrange(0, 2 * 24 * 12)  # within the first two days
        end = rng.randrange(SLOTS - 7 * 24 * 12, SLOTS) if n % 5 == 0 else None
        last = end if end is not None else SLOTS
        slots = sorted(rng.sample(range(created + 1, last), events_per_server - 2))
        state, flavor = "active", rng.randrange(len(FLAVORS))
        events.append(_event(sid, tenant, created, "create", {**FLAVORS[flavor],
                                                              "state": state}))
        for slot in slots:
            move = rng.choice(MOVES[state])
            if move == "resize":
                flavor = (flavor + 1 + rng.randrange(len(FLAVORS) - 1)) % len(FLAVORS)
                events.append(_event(sid, tenant, slot, "resize", dict(FLAVORS[flavor])))
            else:
                state = move
                events.append(_event(sid, tenant, slot, move, {"state": state}))
        if end is not None:
            events.append(_event(sid, tenant, end, "delete", None))
    events.sort(key=lambda e: e.at)
    return events


def _event(sid: str, tenant: str, slot: int, name: str,
           attributes: dict[str, Any] | None) -> UsageEvent:
    at = MONTH_START + slot * STEP
    return UsageEvent(f"bench:{sid}:{slot}:{name}", tenant, "server", sid, at, attributes)


# -- the polling baseline -------------------------------------------------------------

POLLED = ("CREATE TABLE polled_hours (server VARCHAR(64), hour INTEGER, state VARCHAR(16), "
          "vcpus INTEGER, minutes INTEGER)")


def poll(events: list[UsageEvent], engine: Engine) -> Counter[Shape]:
    """Every server asked for its state every 5 minutes; the samples aggregated into one
    row per server, hour, state and shape, stored as a poller's usage records are.
    Returns the minutes per (state, vCPUs)."""
    timelines: dict[str, list[UsageEvent]] = defaultdict(list)
    for event in events:
        timelines[event.resource_id].append(event)
    minutes: Counter[Shape] = Counter()
    with engine.begin() as conn:
        conn.exec_driver_sql(POLLED)
        marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        insert = f"INSERT INTO polled_hours VALUES ({', '.join([marker] * 5)})"
        for server, timeline in timelines.items():
            rows = []
            for hour, shapes in enumerate(_hours(timeline)):
                for (state, vcpus), samples in shapes.items():
                    rows.append((server, hour, state, vcpus, samples * 5))
                    minutes[(state, vcpus)] += samples * 5
            conn.exec_driver_sql(insert, rows)  # type: ignore[arg-type]
    return minutes


def _hours(timeline: list[UsageEvent]) -> Iterator[Counter[Shape]]:
    """One server's 5-minute answers over the month, counted per hour."""
    attributes: dict[str, Any] | None = None
    position, count = 0, len(timeline)
    hour: Counter[Shape] = Counter()
    for slot in range(SLOTS):
        now = MONTH_START + slot * STEP
        while position < count and timeline[position].at <= now:
            change = timeline[position].attributes
            attributes = None if change is None else {**(attributes or {}), **change}
            position += 1
        if attributes is not None:  # the provider's answer for this server now
            hour[(attributes["state"], attributes["vcpus"])] += 1
        if slot % 12 == 11:
            yield hour
            hour = Counter()


# -- OCX -------------------------------------------------------------------------------

def seed_database(engine: Engine, projects: int) -> uuid.UUID:
    """Organizations, projects, a provider and an offering with one allocation per project."""
    from sqlalchemy.orm import sessionmaker
    sessions = sessionmaker(engine, expire_on_commit=False)
    with sessions.begin() as session:
        org = Organization(name="bench-org")
        session.add(org)
        session.flush()
        provider = Provider(organization_id=org.id, name="bench-cloud")
        session.add(provider)
        session.flush()
        offering = Offering(provider_id=provider.id, name="compute", kind="openstack",
                            driver="fake", driver_settings={}, components=[])
        session.add(offering)
        session.flush()
        for n in range(projects):
            project = Project(organization_id=org.id, name=f"proj-{n:04d}")
            session.add(project)
            session.flush()
            session.add(Allocation(project_id=project.id, offering_id=offering.id,
                                   state=AllocationState.ACTIVE, quota={},
                                   starts_at=MONTH_START, external_id=f"tenant-{n:04d}"))
        return offering.id


def ingest_month(engine: Engine, offering_id: uuid.UUID, events: list[UsageEvent]) -> int:
    """The events handed over in daily collector batches, the last one up to the month's
    end (which cuts every running server's span there)."""
    from sqlalchemy.orm import sessionmaker
    sessions = sessionmaker(engine, expire_on_commit=False)
    spans, position = 0, 0
    for day in range(1, BATCHES + 1):
        until = MONTH_START + timedelta(days=day)
        end = bisect.bisect_left(events, until, lo=position, key=lambda e: e.at)
        batch, position = events[position:end], end
        with sessions.begin() as session:
            offering = session.get(Offering, offering_id)
            assert offering is not None
            spans += record_batch(session, offering, batch, {"until": until.isoformat()},
                                  until).spans
    return spans


def span_totals(engine: Engine) -> tuple[Counter[Shape], Decimal]:
    """Minutes per (state, vcpus) from the spans' exact times, and their total hours."""
    minutes: Counter[Shape] = Counter()
    with engine.connect() as conn:
        rows = conn.execute(select(UsageSpan.started_at, UsageSpan.ended_at,
                                   UsageShape.attributes)
                            .join(UsageShape, UsageShape.id == UsageSpan.shape_id))
        for started, ended, attributes in rows:
            minutes[(attributes["state"], attributes["vcpus"])] += int(
                (ended - started).total_seconds() // 60)
        hours = conn.execute(select(func.sum(UsageSpan.quantity))).scalar_one()
    return minutes, Decimal(hours)


def rate_and_invoice(engine: Engine) -> Took | None:
    """>>> RATING + INVOICES (``ocx.domain.billing``, the billing work): a plan pricing
    CPU service units is set up (not timed), then every organization's October invoice is
    generated (timed). None when billing is not there."""
    try:
        from ocx.domain.billing import invoices, pricebook, schemas
    except ImportError:
        return None
    from sqlalchemy.orm import sessionmaker

    from ocx.domain.actor import SYSTEM
    from ocx.domain.marketplace.models import Plan
    sessions = sessionmaker(engine, expire_on_commit=False)
    with sessions.begin() as session:
        offering = session.scalar(select(Offering).where(Offering.name == "compute"))
        assert offering is not None
        session.add(Plan(offering_id=offering.id, name="standard", currency="USD"))
        session.flush()
        pricebook.set_rules(session, SYSTEM, "bench-cloud:compute", "standard",
                            schemas.RatingRules())
        pricebook.set_rate(session, SYSTEM, "bench-cloud:compute", "standard",
                           schemas.RateSet(component="cpu_su", unit_price=Decimal("0.013"),
                                           valid_from=MONTH_START - timedelta(days=31)))

    def generate() -> tuple[int, Decimal]:
        with sessions.begin() as session:
            made = invoices.generate(session, SYSTEM,
                                     schemas.InvoiceGenerate(period="2026-10"))
            return len(made), sum((invoice.total for invoice in made), Decimal(0))

    took, (count, total) = timed("rating + all invoices", generate)
    print(f"  {count} invoice(s), total {total:,.2f} USD")
    return took


def timed(label: str, call: Callable[[], Any]) -> tuple[Took, Any]:
    """``call()``, printing its wall-clock and CPU time (the machine may be shared)."""
    start, cpu = time.perf_counter(), time.process_time()
    result = call()
    took = Took(time.perf_counter() - start, time.process_time() - cpu)
    print(f"  {label:<36} {took.wall:8.3f} s  (cpu {took.cpu:.3f} s)")
    return took, result


def run(url: str, events: list[UsageEvent], projects: int) -> None:
    """OCX's pipeline and the polling baseline on one database; both times, and checks."""
    engine = make_engine(url)
    upgrade(engine)
    ocx_s, minutes = run_ocx(engine, events, projects)
    print(f"polling baseline on {engine.dialect.name} (5-minute samples of every server):")
    servers = len({e.resource_id for e in events})
    poll_s, polled = timed(f"{servers * SLOTS:,} samples -> hourly rows",
                           lambda: poll(events, engine))
    engine.dispose()
    assert minutes == polled, "OCX and the polling baseline disagree"
    print(f"  same totals: {sum(polled.values()) / 60:,.2f} server-hours in {len(polled)} "
          f"(state, vCPUs) groups")
    print(f"  OCX {ocx_s.wall:.3f} s vs polling {poll_s.wall:.3f} s: "
          f"{poll_s.wall / ocx_s.wall:.1f}x; CPU {ocx_s.cpu:.3f} s vs {poll_s.cpu:.3f} s: "
          f"{poll_s.cpu / ocx_s.cpu:.1f}x (targets: OCX <= 10 s, >= 50x)")


def run_ocx(engine: Engine, events: list[UsageEvent], projects: int
            ) -> tuple[Took, Counter[Shape]]:
    """OCX's pipeline: ingest (+ rating and invoices when they exist)."""
    offering_id = seed_database(engine, projects)
    print(f"OCX on {engine.dialect.name}:")
    ingest_s, spans = timed(f"ingest {len(events):,} events", lambda: ingest_month(
        engine, offering_id, events))
    minutes, hours = span_totals(engine)
    print(f"  {spans:,} spans, {hours:,.2f} server-hours")
    rating_s = rate_and_invoice(engine)
    if rating_s is None:
        print(f"  {'rating + invoices':<36}      n/a (ocx.domain.billing not there)")
        return ingest_s, minutes
    return ingest_s + rating_s, minutes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=10_000)
    parser.add_argument("--events-per-server", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--postgres", metavar="ADMIN_DSN", default=None,
                        help="also run on a temporary database of this PostgreSQL server")
    options = parser.parse_args()
    projects = max(1, options.servers // 5)
    start = time.perf_counter()
    events = generate(options.servers, options.events_per_server, options.seed)
    print(f"{options.servers:,} servers in {projects:,} projects, {len(events):,} lifecycle "
          f"events in October 2026 (generated in {time.perf_counter() - start:.1f} s)")
    with ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="ocx-bench-"))
        urls = [f"sqlite:///{tmp}/ocx.db"]
        if options.postgres:
            urls.append(stack.enter_context(temporary_database(options.postgres)))
        for url in urls:
            run(url, events, projects)


if __name__ == "__main__":
    main()
