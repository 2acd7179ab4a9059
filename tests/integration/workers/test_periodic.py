"""Periodic jobs on the real databases: membership expiry and the sweep."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ocx.domain.audit.models import AuditEvent
from ocx.domain.identity.models import Membership, OrgMembership
from ocx.persistence.base import utcnow
from ocx.runtime import Runtime
from ocx.workers.periodic import PeriodicJob, run_periodic_job
from tests.support.world import World


def _job(runtime: Runtime, name: str) -> PeriodicJob:
    return next(job for job in runtime.tasks.jobs if job.name == name)


def test_expired_memberships_end_and_are_audited(runtime: Runtime, world: World) -> None:
    with runtime.sessions() as session, session.begin():
        members = list(session.scalars(select(Membership).order_by(Membership.created_at)))
        members[0].expires_at = utcnow() - timedelta(minutes=1)
        members[1].expires_at = utcnow() + timedelta(days=1)
        org_rows = list(session.scalars(select(OrgMembership)))
        org_rows[0].expires_at = utcnow() - timedelta(seconds=1)
        expired_ids = {str(members[0].id), str(org_rows[0].id)}
    job = _job(runtime, "memberships_expire")
    now = utcnow()  # one instant for both: a minute boundary between them opens a new slot
    assert run_periodic_job(runtime.sessions, job, "w1", now)
    assert not run_periodic_job(runtime.sessions, job, "w2", now)
    with runtime.sessions() as session:
        assert session.get(Membership, members[0].id) is None
        assert session.get(Membership, members[1].id) is not None
        assert session.get(OrgMembership, org_rows[0].id) is None
        events = list(session.scalars(select(AuditEvent).where(
            AuditEvent.action.in_(["member.expire", "organization.member.expire"]))))
    assert {e.target_id for e in events} == expired_ids
    assert {e.actor for e in events} == {"system"}
    assert all(e.organization_id is not None for e in events)


def test_the_sweep_runs_once_per_slot_across_workers(runtime: Runtime) -> None:
    job = _job(runtime, "operations_sweep")
    now = utcnow()
    ran = [run_periodic_job(runtime.sessions, job, f"w{i}", now)
           for i in range(3)]
    assert ran == [True, False, False]
    later = now + timedelta(seconds=runtime.settings.sweep_interval_s)
    assert run_periodic_job(runtime.sessions, job, "w1", later)
