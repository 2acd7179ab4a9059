"""API shapes for usage."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel


class UsageSpanPublic(BaseModel):
    """One span, cut to the asked period (its quantity in proportion to the time kept)."""

    resource_kind: str
    resource_id: str
    meter: str
    unit: str
    quantity: Decimal
    started_at: datetime
    ended_at: datetime
    attributes: dict[str, Any]
    offering_id: uuid.UUID | None
    open: bool  # still running: its end is "now" until the provider reports a change


class MeterTotal(BaseModel):
    meter: str
    unit: str
    quantity: Decimal


class UsageReport(BaseModel):
    project_id: uuid.UUID
    project: str  # ORG:NAME
    started_at: datetime
    ended_at: datetime
    totals: list[MeterTotal]
    spans: list[UsageSpanPublic]


class MeterSeries(BaseModel):
    """One meter's quantity on each day of a period (UTC days), and over the period."""

    meter: str
    unit: str
    quantities: list[Decimal]  # one per day, in the order of ``DailyUsage.days``
    total: Decimal


class DailyUsage(BaseModel):
    """A project's usage per meter and per day over whole days [first, last]."""

    project_id: uuid.UUID
    project: str  # ORG:NAME
    days: list[date]
    series: list[MeterSeries]
