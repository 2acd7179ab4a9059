"""Claims and idempotent enqueues racing on the real databases."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import func, select

from ocx.domain.actor import SYSTEM
from ocx.domain.operations import journal, service
from ocx.domain.operations.models import Operation
from ocx.runtime import Runtime

T = TypeVar("T")
RACERS = 6


def _race(work: Callable[[int], T]) -> list[T]:
    """Run ``work(i)`` in RACERS threads released at the same moment."""
    start = threading.Barrier(RACERS)
    results: list[T] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        start.wait()
        value = work(i)
        with lock:
            results.append(value)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == RACERS
    return results


def test_exactly_one_worker_wins_a_claim(runtime: Runtime) -> None:
    with runtime.sessions() as session, session.begin():
        op = service.enqueue(session, SYSTEM, kind="test.race", target=("thing", "1"),
                             idempotency_key="race-claim")

    def claim(i: int) -> str | None:
        with runtime.sessions() as session, session.begin():
            won = journal.claim(session, op.id, f"w{i}", 30.0)
            return won.claimed_by if won else None

    winners = [w for w in _race(claim) if w is not None]
    assert len(winners) == 1
    with runtime.sessions() as session:
        stored = session.get(Operation, op.id)
        assert stored is not None and (stored.attempts, stored.claimed_by) == (1, winners[0])


def test_racing_enqueues_of_one_key_make_one_operation(runtime: Runtime) -> None:
    def enqueue(i: int) -> uuid.UUID:
        with runtime.sessions() as session, session.begin():
            return service.enqueue(session, SYSTEM, kind="test.race", target=("thing", "2"),
                                   idempotency_key="race-enqueue").id

    assert len(set(_race(enqueue))) == 1
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Operation)) == 1
