"""Run-once-per-slot claims for periodic jobs, which every worker's scheduler fires."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ocx.domain.operations.models import PeriodicRun
from ocx.persistence.base import utcnow


def slot_of(period_s: float, now: datetime) -> int:
    """The number of the ``period_s``-long time slot ``now`` falls in."""
    return int(now.timestamp() // period_s)


def claim_slot(session: Session, name: str, period_s: float, worker: str,
               now: datetime | None = None) -> bool:
    """Whether this caller is the one to run job ``name`` in the current slot.

    The claim is part of the caller's transaction: if the job fails and rolls back,
    the slot is free again for another worker.
    """
    now = now or utcnow()
    if session.get(PeriodicRun, name) is None:
        try:
            with session.begin_nested():
                session.add(PeriodicRun(name=name, last_slot=0))
        except IntegrityError:
            pass  # another worker created the row first; the update below decides
    slot = slot_of(period_s, now)
    claimed = session.execute(
        update(PeriodicRun)
        .where(PeriodicRun.name == name, PeriodicRun.last_slot < slot)
        .values(last_slot=slot, ran_at=now, ran_by=worker)
        .execution_options(synchronize_session=False))
    return cast(CursorResult[Any], claimed).rowcount == 1
