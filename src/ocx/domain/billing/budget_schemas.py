"""API shapes of budgets (free of SQLAlchemy: the CLI and client import them)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, field_validator

from ocx.domain.billing.schemas import Cents, Money, Period
from ocx.domain.identity.schemas import Strict
from ocx.domain.marketplace.schemas import Currency

Percent = Annotated[int, Field(ge=1, le=1000, description="a share of the budget, in %")]
DEFAULT_THRESHOLDS = [50, 80, 100]


class BudgetSet(Strict):
    """A project's monthly budget, and the percentages whose crossing notifies its PI."""

    amount: Money = Field(gt=0, description="the most the project means to spend a month")
    currency: Currency = "USD"
    thresholds: list[Percent] = Field(default_factory=lambda: list(DEFAULT_THRESHOLDS),
                                      min_length=1, max_length=10)

    @field_validator("thresholds")
    @classmethod
    def _distinct_sorted(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("thresholds must be distinct")
        return sorted(value)


class BudgetPublic(BaseModel):
    """A budget with this month's spending so far (rated usage, before credits)."""

    project_id: uuid.UUID
    project: str
    amount: Cents
    currency: str
    thresholds: list[int]
    period: Period
    spent: Cents = Field(description="this month's rated usage so far, before credits")
    percent: Decimal = Field(description="spent as a percentage of the budget")
    notified: list[int] = Field(description="thresholds the PI was notified of this month")
