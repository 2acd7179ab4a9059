"""The demo's usage: provider lifecycle events for every active allocation since the
demo's first month, ingested as a collector hands them over (``record_batch``), so the
spans, open intervals and cursors are those real collection would leave.

The events are generated on a fixed grid from the first month's start with a fixed
random seed: the same day always gives the same history.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ocx.demo.market import offering_ref
from ocx.domain.actor import Actor
from ocx.domain.allocations import service as allocations
from ocx.domain.allocations.states import AllocationState
from ocx.domain.marketplace.service import find_offering
from ocx.domain.metering.collection import record_batch
from ocx.drivers.usage import UsageEvent

STEP = timedelta(hours=6)  # how often a server may change
FLAVORS = {"m1.medium": (2, 8192), "m1.large": (4, 16384), "m1.xlarge": (8, 32768)}
MOVES = {"active": ["stopped", "shelved", "resize"], "stopped": ["active"],
         "shelved": ["active"]}
# Per project: its servers (name, flavor), its volume (GiB) and its bucket (GiB, if any).
WORKLOADS: dict[str, tuple[tuple[tuple[str, str], ...], int, int | None]] = {
    "genomics-lab": ((("align-01", "m1.xlarge"), ("align-02", "m1.large"),
                      ("portal", "m1.medium")), 1000, 800),
    "climate-models": ((("ensemble-01", "m1.xlarge"), ("ensemble-02", "m1.xlarge")), 500,
                       None),
    "protein-folding": ((("md-01", "m1.large"), ("md-viewer", "m1.medium")), 250, None),
}


@dataclass(frozen=True)
class Tenant:
    """An active allocation's provider tenant, and whose workload runs in it."""

    project: str
    external_id: str


def tenants(session: Session, operator: Actor, offering: str) -> list[Tenant]:
    """The active allocations of one demo offering, as provider tenants."""
    page = allocations.list_allocations(session, operator, cursor=None, limit=100,
                                        offering=offering_ref(offering),
                                        state=AllocationState.ACTIVE)
    return [Tenant(a.project.name, a.external_id) for a in page.items if a.external_id]


class Timeline:
    """Builds one resource's events, each with a stable id."""

    def __init__(self, tenant: Tenant, kind: str, resource_id: str) -> None:
        self.tenant, self.kind, self.resource_id = tenant, kind, resource_id
        self.events: list[UsageEvent] = []

    def at(self, when: datetime, attributes: dict[str, Any] | None) -> None:
        """From ``when`` on the resource is ``attributes`` (None: it is gone)."""
        self.events.append(UsageEvent(
            f"demo:{self.tenant.external_id}:{self.resource_id}:{len(self.events)}",
            self.tenant.external_id, self.kind, self.resource_id, when, attributes))


def _grid(start: datetime, until: datetime) -> Iterator[datetime]:
    when = start
    while when < until:
        yield when
        when += STEP


def _flavor(name: str) -> dict[str, Any]:
    vcpus, ram_mib = FLAVORS[name]
    return {"flavor": name, "vcpus": vcpus, "ram_mib": ram_mib, "gpus": 0, "gpu_type": None}


def server_events(tenant: Tenant, name: str, flavor: str, start: datetime,
                  until: datetime, rng: random.Random) -> list[UsageEvent]:
    """A server created at ``start`` that is stopped, shelved and resized now and then."""
    line = Timeline(tenant, "server", f"{tenant.project}-{name}")
    line.at(start, {**_flavor(flavor), "state": "active"})
    state = "active"
    for when in _grid(start + STEP, until):
        if rng.random() > 0.12:
            continue
        move = rng.choice(MOVES[state])
        if move == "resize":
            line.at(when, _flavor(rng.choice(sorted(FLAVORS))))
        else:
            state = move
            line.at(when, {"state": state})
    return line.events


def storage_events(tenant: Tenant, kind: str, name: str, size_gib: int, start: datetime,
                   until: datetime, *, growth_gib: int = 0) -> list[UsageEvent]:
    """A volume or bucket of ``size_gib`` from ``start``, growing every week."""
    line = Timeline(tenant, kind, f"{tenant.project}-{name}")
    for week, when in enumerate(_grid(start, until)):
        if week % 28 == 0:  # STEP is 6 hours: every 28th step is a week
            line.at(when, {"size_gib": size_gib + growth_gib * (week // 28)})
        if not growth_gib:
            break
    return line.events


def compute_events(tenant: Tenant, start: datetime, until: datetime) -> list[UsageEvent]:
    """Servers, a volume and a floating IP of one project's compute tenant."""
    servers, volume_gib, _ = WORKLOADS[tenant.project]
    rng = random.Random(f"ocx-demo:{tenant.project}")  # noqa: S311 - a repeatable history
    events: list[UsageEvent] = []
    for number, (name, flavor) in enumerate(servers):
        created = start + timedelta(hours=3 + 30 * number)
        events += server_events(tenant, name, flavor, created, until, rng)
    events += storage_events(tenant, "volume", "data", volume_gib, start + timedelta(hours=2),
                             until)
    ip = Timeline(tenant, "floating_ip", f"{tenant.project}-portal-ip")
    ip.at(start + timedelta(hours=4), {"address": "192.0.2.10"})
    return events + ip.events


def object_events(tenant: Tenant, start: datetime, until: datetime) -> list[UsageEvent]:
    """One bucket of a project's object storage tenant, growing weekly."""
    _, _, bucket_gib = WORKLOADS[tenant.project]
    if bucket_gib is None:
        return []
    return storage_events(tenant, "bucket", "sequencer-runs", bucket_gib,
                          start + timedelta(hours=5), until, growth_gib=150)


def ingest(session: Session, operator: Actor, start: datetime, until: datetime) -> int:
    """Generate and record the events of every active compute and object storage
    allocation up to ``until``, as one collector batch per offering; spans written."""
    written = 0
    for offering, make in (("compute", compute_events), ("object-store", object_events)):
        events = [event for tenant in tenants(session, operator, offering)
                  for event in make(tenant, start, until)]
        written += record_batch(session, find_offering(session, offering_ref(offering)),
                                events, {"until": until.isoformat()}, until).spans
    return written
