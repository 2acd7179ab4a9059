"""Races, with real threads and one session each: leases, VLAN ids and node locks are handed
out once. On PostgreSQL the database settles them (exclusion and unique constraints, row
locks); on SQLite serialized writers do."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ocx.domain.actor import SYSTEM
from ocx.domain.baremetal import isolation, leases, networks, schemas
from ocx.domain.baremetal.models import Lease, Network, Node
from ocx.domain.operations.models import Operation
from ocx.errors import Conflict
from ocx.persistence.base import utcnow
from tests.integration.baremetal.support import Lab

THREADS = 8


def _race(lab: Lab, attempt: Callable[[Any, int], object]) -> tuple[list[object], list[str]]:
    """Run ``attempt(session, n)`` in THREADS threads at once; (results, conflict messages)."""
    barrier = threading.Barrier(THREADS)

    def one(n: int) -> tuple[str, object]:
        barrier.wait()
        try:
            with lab.runtime.sessions() as session, session.begin():
                return "ok", attempt(session, n)
        except Conflict as exc:
            return "conflict", exc.message

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = list(pool.map(one, range(THREADS)))
    return ([value for kind, value in outcomes if kind == "ok"],
            [str(value) for kind, value in outcomes if kind == "conflict"])


def _offer(lab: Lab, **body: object) -> uuid.UUID:
    offer = lab.call("admin_a", "POST", "/offers", {
        "ends_at": (utcnow() + timedelta(days=7)).isoformat(), **body}, expect=201)
    return uuid.UUID(offer["id"])


def test_concurrent_leases_of_one_node_one_wins(lab: Lab) -> None:
    offer = _offer(lab, node="n1")
    start = utcnow() + timedelta(hours=1)

    def lease(session: Any, n: int) -> uuid.UUID:
        # Every window overlaps every other (they all contain start + 3h).
        body = schemas.LeaseCreate(offer=offer, project=lab.world.project_ids["b"],
                                   starts_at=start + timedelta(minutes=n),
                                   ends_at=start + timedelta(hours=4, minutes=n))
        return leases.create_lease(session, SYSTEM, body).id

    won, lost = _race(lab, lease)
    assert len(won) == 1 and len(lost) == THREADS - 1
    assert all(str(won[0]) in message for message in lost), lost
    with lab.runtime.sessions() as session:
        assert [row.id for row in session.scalars(select(Lease))] == won


def test_concurrent_leases_of_a_class_take_each_node_once(lab: Lab) -> None:
    offer = _offer(lab, resource_class="gpu", owner="org-a", site=lab.site)

    def lease(session: Any, n: int) -> uuid.UUID:
        body = schemas.LeaseCreate(offer=offer, project=lab.world.project_ids["b"],
                                   ends_at=utcnow() + timedelta(hours=2))
        return leases.create_lease(session, SYSTEM, body).node_id

    won, lost = _race(lab, lease)
    assert len(won) == 2 and len(set(won)) == 2 and len(lost) == THREADS - 2


def test_concurrent_networks_never_share_a_vlan(lab: Lab) -> None:
    lab.call("operator", "POST", "/sites", {"name": "tiny", "vlan_min": 200, "vlan_max": 203},
             expect=201)

    def create(session: Any, n: int) -> int:
        body = schemas.NetworkCreate(name=f"net-{n}", project=lab.world.project_ids["a"],
                                     site="tiny")
        return networks.create_network(session, SYSTEM, body).vlan

    won, lost = _race(lab, create)
    assert sorted(won) == [200, 201, 202, 203]  # type: ignore[type-var]
    assert all("exhausted" in message for message in lost) and len(lost) == THREADS - 4
    with lab.runtime.sessions() as session:
        assert len(session.scalars(select(Network)).all()) == 4


def test_concurrent_operations_on_one_node_one_is_journalled(lab: Lab) -> None:
    def power(session: Any, n: int) -> uuid.UUID:
        body = schemas.PowerRequest(action=schemas.PowerVerb.ON)
        return isolation.power(session, SYSTEM, "n1", body).id

    won, lost = _race(lab, power)
    assert len(won) == 1 and all("is busy with operation" in m or "just taken" in m
                                 for m in lost), lost
    with lab.runtime.sessions() as session:
        node = session.scalar(select(Node).where(Node.name == "n1"))
        assert node is not None and node.locked_by == won[0]
        power_ops = session.scalars(select(Operation).where(Operation.kind == isolation.POWER))
        assert [op.id for op in power_ops] == won


# SQLite has no exclusion constraints (its writers are serialized): PostgreSQL only.
@pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                         indirect=True)
def test_postgres_refuses_overlapping_leases_even_without_the_service(lab: Lab) -> None:
    offer = _offer(lab, node="n1")
    start = utcnow() + timedelta(hours=1)
    with lab.runtime.sessions() as session:
        node_id = session.scalar(select(Node.id).where(Node.name == "n1"))
        project_id = uuid.UUID(lab.world.project_ids["b"])
        for hours in (0, 1):
            session.add(Lease(offer_id=offer, node_id=node_id, project_id=project_id,
                              starts_at=start + timedelta(hours=hours),
                              ends_at=start + timedelta(hours=hours + 2)))
        with pytest.raises(IntegrityError, match="ex_bm_leases_node_window"):
            session.commit()
