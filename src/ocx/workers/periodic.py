"""Periodic jobs: the operations sweep and membership expiry.

Huey fires every periodic task in every consumer that has periodic tasks enabled, so
each job first claims its current time slot in the database (``periodic_runs``); only
the winner runs it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy.orm import Session, sessionmaker

from ocx.config import Settings
from ocx.domain.allocations import reconciler
from ocx.domain.baremetal import lifecycle as baremetal
from ocx.domain.billing import budgets
from ocx.domain.identity import lifecycle
from ocx.domain.metering import collection as metering
from ocx.domain.operations import journal, slots
from ocx.domain.operations.service import request_wakeup
from ocx.persistence.db import transaction

log = logging.getLogger("ocx.workers.periodic")
MEMBERSHIP_EXPIRY_PERIOD_S = 60.0


@dataclass(frozen=True)
class PeriodicJob:
    """A job run once per ``period_s`` across all workers; ``run`` returns how much it did."""

    name: str
    period_s: float
    run: Callable[[Session], int]


def sweep_operations(session: Session, *, grace_s: float) -> int:
    """Fail operations abandoned on their last attempt; wake workers for those overdue."""
    failed = journal.fail_abandoned(session)
    due = journal.due_operation_ids(session, grace_s=grace_s)
    request_wakeup(session, due)  # published by the runtime after this commits
    return failed + len(due)


def periodic_jobs(settings: Settings) -> list[PeriodicJob]:
    """Every periodic job OCX runs, with its period."""
    return [
        PeriodicJob("operations_sweep", float(settings.sweep_interval_s),
                    partial(sweep_operations, grace_s=float(settings.sweep_interval_s))),
        PeriodicJob("memberships_expire", MEMBERSHIP_EXPIRY_PERIOD_S,
                    lifecycle.expire_memberships),
        PeriodicJob("leases_move", float(settings.sweep_interval_s), baremetal.move_leases),
        PeriodicJob("allocations_expire", MEMBERSHIP_EXPIRY_PERIOD_S,
                    reconciler.expire_allocations),
        PeriodicJob("allocations_reconcile", float(settings.reconcile_interval_s),
                    reconciler.schedule_reconcile),
        PeriodicJob("usage_collect", metering.COLLECT_PERIOD_S, metering.schedule_collection),
        PeriodicJob("budgets_check", budgets.CHECK_PERIOD_S, budgets.check_budgets),
    ]


def run_periodic_job(sessions: sessionmaker[Session], job: PeriodicJob, worker: str,
                     now: datetime | None = None) -> bool:
    """Run ``job`` if this worker wins its current slot; whether it ran."""
    with transaction(sessions) as session:
        if not slots.claim_slot(session, job.name, job.period_s, worker, now):
            return False
        done = job.run(session)
    if done:
        log.info("periodic job %s handled %d item(s)", job.name, done)
    return True
