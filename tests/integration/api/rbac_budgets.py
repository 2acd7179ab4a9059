"""RBAC expectations for budgets: a project's leads set it, its people read it."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import select

from ocx.domain.billing.budget_models import Budget
from ocx.runtime import Runtime
from tests.support.rbac import LEADS, PROJECT_PEOPLE, Case, only
from tests.support.world import World


def _budget(runtime: Runtime, world: World, side: str) -> dict[str, str]:
    """A budget on the side's project, so that reading it can succeed."""
    project_id = uuid.UUID(world.project_ids[side])
    with runtime.sessions.begin() as session:
        if session.scalar(select(Budget).where(Budget.project_id == project_id)) is None:
            session.add(Budget(project_id=project_id, amount=Decimal(100), currency="USD",
                               thresholds=[50, 80, 100]))
    return {}


BUDGET_CASES: dict[str, Case] = {
    "budget.read": Case("GET", "/projects/{project}/budget", only(*PROJECT_PEOPLE),
                        setup=_budget),
    "budget.set": Case("PUT", "/projects/{project}/budget", only(*LEADS),
                       body=lambda w, s: {"amount": "250.00", "thresholds": [50, 100]}),
}
