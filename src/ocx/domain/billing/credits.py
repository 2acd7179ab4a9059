"""Credits and subsidies: granting them, and the one order in which invoices use them.

The order (docs/billing.md): credits of the project before the organization's; then by
``priority`` (lower first); then the one that expires first (open-ended last); then the
oldest. Each credit pays, line by line in invoice order, ``percent`` of what is still
owed on each line it may pay for (not its ``excluded_components``), rounded half to
even to the cent, until its remaining amount is spent.
"""

from __future__ import annotations

import fnmatch
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ocx.domain import policy
from ocx.domain.actor import Actor
from ocx.domain.audit import service as audit
from ocx.domain.billing import schemas
from ocx.domain.billing.models import Credit, Invoice, InvoiceCredit
from ocx.domain.billing.rating import to_cents
from ocx.domain.billing.states import InvoiceState
from ocx.domain.identity.service import find_org, find_project
from ocx.domain.policy import Action, Target
from ocx.errors import InvalidInput
from ocx.persistence.pagination import Page, paginate

FAR_FUTURE = datetime.max.isoformat()


@dataclass(frozen=True)
class Owed:
    """What one invoice line owes: its project, component and amount."""

    project_id: str
    component: str
    amount: Decimal


@dataclass(frozen=True)
class Available:
    """A credit as an invoice may use it: what is left of it, and its rules."""

    id: str
    project_id: str | None
    left: Decimal
    percent: Decimal
    excluded: tuple[str, ...]
    order: tuple[int, int, str, str, str]


def credit_order(credit: Credit) -> tuple[int, int, str, str, str]:
    """Where the credit comes in the order of use (see the module docstring)."""
    until = credit.valid_until.isoformat() if credit.valid_until else FAR_FUTURE
    return (0 if credit.project_id else 1, credit.priority, until,
            credit.created_at.isoformat(), str(credit.id))


def apply_credits(lines: list[Owed], credits: list[Available]
                  ) -> list[tuple[str, str, Decimal]]:
    """(credit id, project id, amount) used, in order of use; amounts never exceed a line."""
    owed = [line.amount for line in lines]
    used: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for credit in sorted(credits, key=lambda c: c.order):
        left = credit.left
        for index, line in enumerate(lines):
            if left <= 0:
                break
            if (credit.project_id not in (None, line.project_id) or owed[index] <= 0
                    or any(fnmatch.fnmatchcase(line.component, p) for p in credit.excluded)):
                continue
            share = min(to_cents(Fraction(owed[index]) * Fraction(credit.percent) / 100), left)
            if share > 0:
                owed[index] -= share
                left -= share
                used[(credit.id, line.project_id)] += share
    return [(credit_id, project_id, amount)
            for (credit_id, project_id), amount in used.items()]


def spent(session: Session, credit_ids: list[uuid.UUID]) -> dict[uuid.UUID, Decimal]:
    """How much of each credit final invoices have used."""
    rows = session.execute(
        select(InvoiceCredit.credit_id, func.sum(InvoiceCredit.amount))
        .join(Invoice, Invoice.id == InvoiceCredit.invoice_id)
        .where(InvoiceCredit.credit_id.in_(credit_ids), Invoice.state == InvoiceState.FINAL)
        .group_by(InvoiceCredit.credit_id))
    return {credit_id: Decimal(total or 0) for credit_id, total in rows}


def usable(session: Session, organization_id: uuid.UUID, currency: str, start: datetime,
           end: datetime) -> list[Available]:
    """The organization's credits in ``currency`` valid at some time in [start, end)."""
    rows = list(session.scalars(select(Credit).where(
        Credit.organization_id == organization_id, Credit.currency == currency,
        Credit.valid_from < end)))
    rows = [c for c in rows if c.valid_until is None or c.valid_until > start]
    used = spent(session, [c.id for c in rows])
    return [Available(str(c.id), str(c.project_id) if c.project_id else None,
                      c.amount - used.get(c.id, Decimal(0)), c.percent,
                      tuple(c.excluded_components), credit_order(c)) for c in rows]


def grant(session: Session, actor: Actor, body: schemas.CreditCreate) -> Credit:
    """Give an organization (or one of its projects) a credit or subsidy (operators)."""
    org = find_org(session, body.organization)
    policy.authorize(actor, Action.CREDIT_GRANT, Target(org_id=org.id))
    project_id = None
    if body.project is not None:
        project = find_project(session, body.project)
        if project.organization_id != org.id:
            raise InvalidInput(f"project: {project.name} is not sponsored by {org.name}")
        project_id = project.id
    if body.valid_until is not None and body.valid_until <= body.valid_from:
        raise InvalidInput("valid_until must come after valid_from")
    credit = Credit(organization_id=org.id, project_id=project_id,
                    **body.model_dump(exclude={"organization", "project"}))
    session.add(credit)
    session.flush()
    audit.record(session, actor, "credit.grant", "credit", credit.id, organization_id=org.id,
                 changes=body.model_dump(mode="json"))
    return credit


def list_credits(session: Session, actor: Actor, *, cursor: str | None, limit: int,
                 organization: str | None = None) -> Page[Credit]:
    """Credits the actor may see: operators all, organization admins their own."""
    policy.authorize(actor, Action.CREDIT_LIST)
    stmt = select(Credit)
    if not actor.is_operator:
        stmt = stmt.where(Credit.organization_id.in_(actor.admin_org_ids()))
    if organization:
        stmt = stmt.where(Credit.organization_id == find_org(session, organization).id)
    return paginate(session, stmt, Credit, cursor=cursor, limit=limit)
