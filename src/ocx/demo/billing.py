"""The demo's invoices and budget, made through the billing services."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.orm import Session

from ocx.demo.cast import BUDGET_PROJECT
from ocx.domain.actor import Actor
from ocx.domain.billing import budgets, invoices
from ocx.domain.billing.budget_schemas import BudgetSet
from ocx.domain.billing.schemas import InvoiceGenerate
from ocx.domain.identity.service import find_project

# The budget is set so that this month's spending so far stands at this share of it.
BUDGET_SHARE = Decimal("0.85")


def month_name(start: datetime) -> str:
    """A month as the billing services name it: YYYY-MM."""
    return start.strftime("%Y-%m")


def close_months(session: Session, operator: Actor, months: list[datetime],
                 now: datetime) -> int:
    """Draft invoices for every past month, the oldest one finalized; invoices made."""
    made = 0
    for number, start in enumerate(months):
        drafts = invoices.generate(session, operator, InvoiceGenerate(period=month_name(start)))
        made += len(drafts)
        if number == 0:
            for invoice in drafts:
                invoices.finalize(session, operator, invoice.id, now)
    return made


def set_budget(session: Session, pi: Actor, now: datetime) -> Decimal:
    """The PI's monthly budget for the budget project, sized so that this month's spending
    has crossed its 50 % and 80 % alerts; the budget's amount."""
    project = find_project(session, BUDGET_PROJECT)
    _, spent = budgets.month_cost(session, project, now)
    amount = spent / BUDGET_SHARE
    quantum = Decimal(1) if amount >= 10 else Decimal("0.01")
    amount = max(amount.quantize(quantum, ROUND_HALF_UP), Decimal("0.01"))
    budgets.set_budget(session, pi, str(project.id),
                       BudgetSet(amount=amount, currency="USD", thresholds=[50, 80, 100]),
                       now)
    return amount
