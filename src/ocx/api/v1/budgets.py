"""A project's monthly budget and this month's spending against it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from ocx.api.deps import ActorDep, SessionDep, declares
from ocx.domain.billing import budgets
from ocx.domain.billing.budget_schemas import BudgetPublic, BudgetSet
from ocx.domain.policy import Action

router = APIRouter(prefix="/projects", tags=["billing"])
ProjectRef = Annotated[str, Path(max_length=130, description="project id or ORG:NAME")]


@router.get("/{project}/budget", response_model=BudgetPublic, **declares(Action.BUDGET_READ))
def show_budget(project: ProjectRef, actor: ActorDep, session: SessionDep) -> BudgetPublic:
    """The project's budget, this month's rated usage so far, and the thresholds its PI
    was notified of (the project's people)."""
    return budgets.get_budget(session, actor, project)


@router.put("/{project}/budget", response_model=BudgetPublic, **declares(Action.BUDGET_SET))
def set_budget(project: ProjectRef, body: BudgetSet, actor: ActorDep,
               session: SessionDep) -> BudgetPublic:
    """Set the project's monthly budget and alert thresholds (its PI and managers)."""
    return budgets.set_budget(session, actor, project, body)
