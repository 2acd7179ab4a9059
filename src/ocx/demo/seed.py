"""``seed``: the whole demo, built as its people would build it, every step audited.

An operator creates the organizations and accounts, lets Harbor sell and sets the price
book; Harbor's admin lists the offerings and approves requests; PIs add their people
and ask for allocations; workers provision them on the fake drivers; three months of
provider events are collected; the past months are invoiced; a budget raises its alerts.
Run on a database that has the demo already, it does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from ocx.config import Environment
from ocx.demo import billing, market, people, usage
from ocx.demo.cast import (
    DEMO_PASSWORD,
    MARKER,
    OPERATOR,
    PROVIDER_ORG,
    ROLE_ACCOUNTS,
)
from ocx.domain.actor import SYSTEM
from ocx.domain.audit import service as audit
from ocx.domain.billing.budgets import check_budgets
from ocx.domain.identity.service import find_org
from ocx.errors import Conflict, Forbidden, NotFound
from ocx.persistence.base import utcnow
from ocx.runtime import Runtime
from ocx.workers.operations import run_due_operations

MONTHS = 3  # months of history before the current one


@dataclass(frozen=True)
class SeedResult:
    """What ``seed`` did: whether it made the demo, and who may sign in to it."""

    created: bool
    accounts: dict[str, str] = field(default_factory=dict)  # role -> email
    password: str = DEMO_PASSWORD
    spans: int = 0
    invoices: int = 0


def month_starts(now: datetime, count: int) -> list[datetime]:
    """The first instants of the ``count`` months before ``now``'s, oldest first."""
    year, month = now.year, now.month
    starts = []
    for _ in range(count):
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        starts.append(datetime(year, month, 1, tzinfo=UTC))
    return starts[::-1]


def seed(runtime: Runtime, now: datetime | None = None) -> SeedResult:
    """Build the demo (development and test environments only); nothing if it exists.

    Raises:
        Forbidden: the environment is production.
        Conflict: an earlier seed stopped half-way (start from an empty database).
    """
    if runtime.settings.environment is Environment.PRODUCTION:
        raise Forbidden("the demo seed refuses to run in production (OCX_ENVIRONMENT="
                        "production): it creates accounts with a published password")
    with runtime.sessions() as session:
        if _seeded(session):
            return SeedResult(created=False, accounts=dict(ROLE_ACCOUNTS))
    now = now or utcnow()
    months = month_starts(now, MONTHS)
    with runtime.sessions.begin() as session:
        operator = people.ensure_operators(session, runtime.settings.token_default_ttl_days)
        people.create_people(session, operator)
        market.create_market(session, runtime, operator)
        market.create_nodes(session, runtime, operator)
        market.set_price_book(session, operator, months[0], months[1])
        people.create_projects(session, operator)
    market.request_allocations(runtime)
    run_operations(runtime)
    with runtime.sessions.begin() as session:
        people.ask_to_join(session)
        operator = people.act_as(session, _operator_email(session))
        spans = usage.ingest(session, operator, months[0], now)
        made = billing.close_months(session, operator, months, now)
        billing.set_budget(session, people.act_as(session, ROLE_ACCOUNTS["pi"]), now)
        check_budgets(session, now)
    run_operations(runtime)
    with runtime.sessions.begin() as session:
        audit.record(session, SYSTEM, MARKER, "organization", find_org(session, PROVIDER_ORG).id,
                     changes={"accounts": ROLE_ACCOUNTS, "spans": spans, "invoices": made})
    return SeedResult(created=True, accounts=dict(ROLE_ACCOUNTS), spans=spans, invoices=made)


def _seeded(session: Session) -> bool:
    """Whether the demo is there; refuses a half-made one."""
    try:
        org = find_org(session, PROVIDER_ORG)
    except NotFound:
        return False
    done = audit.list_events(session, SYSTEM, cursor=None, limit=1, action=MARKER,
                             organization_id=None, target_id=str(org.id))
    if not done.items:
        raise Conflict(f"organization {PROVIDER_ORG} exists but the demo seed never finished "
                       "there; seed an empty database (e.g. remove var/ and run again)")
    return True


def _operator_email(session: Session) -> str:
    found = people.first_operator(session)
    return found.email if found else OPERATOR.email


def run_operations(runtime: Runtime) -> int:
    """Run every due operation (and those they enqueue) here, as a worker would; how many
    ran. Operations left for later (retries with back-off) stay in the journal."""
    return run_due_operations(runtime.tasks.worker_context, "ocx-demo-seed")


__all__ = ["SeedResult", "month_starts", "run_operations", "seed"]
