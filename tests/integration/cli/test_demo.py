"""The demo seed of `make run`: what it makes, made once, never in production (both
databases), and the `ocx demo seed` command that `make run` calls."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from ocx.cli.main import app as cli
from ocx.config import Environment, Settings
from ocx.demo import DEMO_PASSWORD, ROLE_ACCOUNTS, seed
from ocx.demo.cast import MARKER, PEOPLE, PROJECTS, PROVIDER_ORG
from ocx.demo.seed import month_starts
from ocx.domain.actor import SYSTEM
from ocx.domain.allocations.models import Allocation
from ocx.domain.audit.models import AuditEvent
from ocx.domain.billing import budgets
from ocx.domain.billing.models import Invoice
from ocx.domain.identity import service as identity
from ocx.domain.identity.models import Membership, Organization, Project, User
from ocx.domain.identity.onboarding_models import JoinRequest
from ocx.domain.identity.passwords import verify_password
from ocx.domain.metering.models import UsageSpan
from ocx.domain.operations.models import Operation
from ocx.errors import Conflict, Forbidden
from ocx.runtime import Runtime, build_runtime

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def counts(runtime: Runtime) -> dict[str, int]:
    """How many rows of each kind the demo makes."""
    models = {"organizations": Organization, "users": User, "projects": Project,
              "memberships": Membership, "allocations": Allocation, "spans": UsageSpan,
              "invoices": Invoice, "operations": Operation, "join_requests": JoinRequest}
    with runtime.sessions() as session:
        return {name: session.scalar(select(func.count()).select_from(model)) or 0
                for name, model in models.items()}


def test_the_demo_is_made_through_the_services_and_only_once(runtime: Runtime) -> None:
    result = seed(runtime, now=NOW)
    assert result.created and result.accounts == ROLE_ACCOUNTS and result.spans > 100
    made = counts(runtime)
    assert made["organizations"] == 3 and made["projects"] == len(PROJECTS)
    assert made["users"] == len(PEOPLE) + 1  # and the demo operator
    with runtime.sessions() as session:
        states = Counter(a.state.value for a in session.scalars(select(Allocation)))
        assert states == {"active": 4, "failed": 1, "requested": 1}
        (failed,) = session.scalars(select(Operation).where(Operation.state == "failed"))
        assert failed.kind == "allocation.apply" and "unreachable" in (failed.last_error or "")
        assert session.scalar(select(JoinRequest.state)) == "pending"
        for email in ROLE_ACCOUNTS.values():
            user = identity.find_user(session, email)
            assert verify_password(user.password_hash, DEMO_PASSWORD), email
        # Every change has its audit trail, under the person who made it.
        actions = Counter(e.action for e in session.scalars(select(AuditEvent)))
        assert actions["user.create"] == len(PEOPLE) and actions["allocation.request"] == 6
        assert actions["node.create"] == 3 and actions["join_request.create"] == 1
        assert actions[MARKER] == 1
        pending = session.scalar(select(func.count()).select_from(Operation).where(
            Operation.state == "pending"))
        assert pending == 0  # every journalled call was run by the seed itself
    again = seed(runtime, now=NOW)
    assert not again.created and counts(runtime) == made


def test_three_months_are_metered_invoiced_and_the_oldest_is_final(runtime: Runtime) -> None:
    seed(runtime, now=NOW)
    months = [m.strftime("%Y-%m") for m in month_starts(NOW, 3)]
    assert months == ["2026-08", "2026-09", "2026-10"]
    with runtime.sessions() as session:
        first_span = session.scalar(select(func.min(UsageSpan.started_at)))
        assert first_span is not None and first_span.replace(tzinfo=UTC) < datetime(
            2026, 8, 2, tzinfo=UTC)
        invoices = {(i.period, i.state.value, i.total > 0)
                    for i in session.scalars(select(Invoice))}
        assert invoices == {("2026-08", "final", True), ("2026-09", "draft", True),
                            ("2026-10", "draft", True)}
        budget = budgets.get_budget(session, SYSTEM, "bayview:genomics-lab", now=NOW)
        assert budget.notified == [50, 80] and 80 <= budget.percent < 100
        assert session.scalar(select(func.count()).select_from(Operation).where(
            Operation.kind == budgets.ALERT, Operation.state == "done")) == 2


def test_the_demo_refuses_production_and_half_made_databases(runtime: Runtime) -> None:
    production = runtime.settings.model_copy(update={
        "environment": Environment.PRODUCTION, "public_url": "https://ocx.example.org"})
    with pytest.raises(Forbidden, match="refuses to run in production"):
        seed(build_runtime(production, engine=runtime.engine))
    assert counts(runtime)["users"] == 0
    with runtime.sessions.begin() as session:
        session.add(Organization(name=PROVIDER_ORG))
    with pytest.raises(Conflict, match="never finished"):
        seed(runtime)


def test_make_run_seeds_once_and_prints_the_accounts(tmp_path: Path) -> None:
    env = {"OCX_DATABASE_URL": f"sqlite:///{tmp_path / 'ocx.db'}", "OCX_ENVIRONMENT": "test",
           "OCX_SECRET_KEY": "demo-test-secret-0123456789", "OCX_TASK_BROKER_URL": "memory://"}
    runner = CliRunner()
    refused = runner.invoke(cli, ["demo", "seed"], env=env)
    assert refused.exit_code == 1 and "run `ocx db upgrade` first" in refused.output
    assert runner.invoke(cli, ["db", "upgrade"], env=env).exit_code == 0
    boot = runner.invoke(cli, ["admin", "bootstrap", "--email", "admin@example.org"], env=env)
    assert boot.exit_code == 0, boot.output
    first = runner.invoke(cli, ["demo", "seed"], env=env)
    assert first.exit_code == 0, first.output
    assert DEMO_PASSWORD in first.output
    assert all(email in first.output for email in ROLE_ACCOUNTS.values())
    second = runner.invoke(cli, ["demo", "seed"], env=env)
    assert second.exit_code == 0 and "nothing done" in second.output
    assert DEMO_PASSWORD not in second.output
    # The operator who ran `ocx admin bootstrap` is the one the demo's operator work names.
    runtime = build_runtime(Settings(
        database_url=env["OCX_DATABASE_URL"], environment=Environment.TEST,
        secret_key=env["OCX_SECRET_KEY"], task_broker_url="memory://"))
    try:
        with runtime.sessions() as session:
            creators = set(session.scalars(
                select(User.email).join(AuditEvent, AuditEvent.actor_id == User.id)
                .where(AuditEvent.action == "organization.create")))
        assert creators == {"admin@example.org"}
    finally:
        runtime.close()
