"""Budgets and alerts: a project's monthly budget, and its PI told once per threshold.

A periodic job (``budgets_check``) rates each budgeted project's spans of the current
month so far with the invoice rating, and journals one ``budget.alert`` operation per
threshold crossed. The operation's idempotency key names the project, the month and the
threshold, so a threshold notifies once a month however often the job runs; a new month
has new keys and starts over. The operation's handler sends the notification to the
project's PIs through the runtime notifier.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ocx.domain import policy
from ocx.domain.actor import SYSTEM, Actor
from ocx.domain.audit import service as audit
from ocx.domain.billing.budget_models import Budget
from ocx.domain.billing.budget_schemas import BudgetPublic, BudgetSet
from ocx.domain.billing.errors import Unpriced
from ocx.domain.billing.invoices import load_spans, rate_organization
from ocx.domain.billing.schemas import month_bounds
from ocx.domain.identity.models import Membership, Project, ProjectRole, User
from ocx.domain.identity.service import find_project, project_target
from ocx.domain.operations import service as operations
from ocx.domain.operations.handlers import HandlerContext, OperationRef
from ocx.domain.operations.models import Operation
from ocx.domain.policy import Action
from ocx.drivers.notifier import Notification
from ocx.errors import NotFound
from ocx.persistence.base import utcnow

log = logging.getLogger("ocx.billing.budgets")
ALERT = "budget.alert"
CHECK_PERIOD_S = 300.0


def alert_key(project_id: uuid.UUID, period: str, threshold: int) -> str:
    """The idempotency key of one threshold's alert in one month."""
    return f"{ALERT}:{project_id}:{period}:{threshold}"


def month_cost(session: Session, project: Project, now: datetime) -> tuple[str, Decimal]:
    """(currency, amount) of the project's usage from the start of ``now``'s month to
    ``now``, rated like an invoice (before credits).

    Raises:
        Unpriced: usage the price book does not price.
    """
    start, _ = month_bounds(now.strftime("%Y-%m"))
    spans = [s for s in load_spans(session, {project.organization_id}, start, now).get(
        project.organization_id, []) if s.project_id == str(project.id)]
    currency, lines = rate_organization(session, spans, start, now)
    return currency, sum((line.amount for line in lines), Decimal(0))


def _notified(session: Session, project_id: uuid.UUID, period: str) -> list[int]:
    prefix = f"{ALERT}:{project_id}:{period}:"
    keys = session.scalars(select(Operation.idempotency_key).where(
        Operation.kind == ALERT, Operation.idempotency_key.startswith(prefix)))
    return sorted(int(key.removeprefix(prefix)) for key in keys)


def _public(session: Session, budget: Budget, project: Project,
            now: datetime) -> BudgetPublic:
    period = now.strftime("%Y-%m")
    try:
        _, spent = month_cost(session, project, now)
    except Unpriced:
        spent = Decimal(0)  # shown as nothing rather than failing the read
    return BudgetPublic(
        project_id=project.id, project=project.name, amount=budget.amount,
        currency=budget.currency, thresholds=list(budget.thresholds), period=period,
        spent=spent, percent=(spent * 100 / budget.amount).quantize(Decimal("0.1")),
        notified=_notified(session, project.id, period))


def _budget_of(session: Session, project: Project) -> Budget | None:
    return session.scalar(select(Budget).where(Budget.project_id == project.id))


def set_budget(session: Session, actor: Actor, project_ref: str, body: BudgetSet,
               now: datetime | None = None) -> BudgetPublic:
    """Set (or replace) a project's monthly budget (its PI and managers, operators)."""
    project = find_project(session, project_ref, actor)
    policy.authorize(actor, Action.BUDGET_SET, project_target(project))
    budget = _budget_of(session, project)
    before = None
    if budget is None:
        budget = Budget(project_id=project.id)
        session.add(budget)
    else:
        before = {"amount": str(budget.amount), "currency": budget.currency,
                  "thresholds": list(budget.thresholds)}
    budget.amount, budget.currency = body.amount, body.currency
    budget.thresholds = list(body.thresholds)
    session.flush()
    audit.record(session, actor, "budget.set", "budget", budget.id,
                 organization_id=project.organization_id,
                 changes={"before": before, "after": body.model_dump(mode="json")})
    return _public(session, budget, project, now or utcnow())


def get_budget(session: Session, actor: Actor, project_ref: str,
               now: datetime | None = None) -> BudgetPublic:
    """A project's budget and this month's spending (the project's people, operators).

    Raises:
        NotFound: the project is hidden, or has no budget.
    """
    project = find_project(session, project_ref, actor)
    policy.authorize(actor, Action.BUDGET_READ, project_target(project))
    budget = _budget_of(session, project)
    if budget is None:
        raise NotFound("this project has no budget; set one with `ocx budget set`")
    return _public(session, budget, project, now or utcnow())


def check_budgets(session: Session, now: datetime | None = None) -> int:
    """Journal an alert for each threshold crossed this month and not alerted yet
    (periodic job); how many it journalled."""
    now = now or utcnow()
    period = now.strftime("%Y-%m")
    journalled = 0
    for budget in session.scalars(select(Budget).order_by(Budget.project_id)):
        project = session.get(Project, budget.project_id)
        if project is None:
            continue
        done = set(_notified(session, project.id, period))
        try:
            currency, spent = month_cost(session, project, now)
        except Unpriced as exc:
            log.warning("budget of project %s not checked: %s", project.id, exc)
            continue
        if currency != budget.currency and spent:
            log.warning("budget of project %s is in %s, its usage in %s", project.id,
                        budget.currency, currency)
            continue
        for threshold in budget.thresholds:
            if threshold in done or spent * 100 < budget.amount * threshold:
                continue
            operations.enqueue(
                session, SYSTEM, kind=ALERT, target=("project", project.id),
                idempotency_key=alert_key(project.id, period, threshold),
                payload={"period": period, "threshold": threshold, "spent": str(spent),
                         "amount": str(budget.amount), "currency": budget.currency})
            journalled += 1
    return journalled


def _pis(session: Session, project_id: uuid.UUID) -> list[User]:
    return list(session.scalars(select(User).join(Membership, Membership.user_id == User.id)
                                .where(Membership.project_id == project_id,
                                       Membership.role == ProjectRole.PI)
                                .order_by(User.email)))


def send_alert(ctx: HandlerContext, op: OperationRef) -> dict[str, Any]:
    """``budget.alert``: tell the project's PIs that its month crossed a threshold."""
    payload = op.payload
    with ctx.sessions() as session:
        project = session.get(Project, uuid.UUID(op.target_id))
        if project is None:
            return {"skipped": "the project no longer exists"}
        name = f"{project.organization.name}/{project.name}"
        notifications = [Notification(
            recipient=pi.email,
            subject=f"OCX budget: {name} reached {payload['threshold']}% in "
                    f"{payload['period']}",
            body=(f"Hello {pi.name or pi.email},\n\nthe project {name} has used "
                  f"{payload['spent']} {payload['currency']} of its monthly budget of "
                  f"{payload['amount']} {payload['currency']} in {payload['period']} "
                  f"(rated usage so far, before credits): {payload['threshold']}% or more.\n"),
            idempotency_key=f"{op.idempotency_key}:{pi.email}")
            for pi in _pis(session, project.id)]
    for notification in notifications:
        ctx.notifier.send(notification)
    return {"recipients": [n.recipient for n in notifications], "project": name}
