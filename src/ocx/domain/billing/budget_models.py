"""The budget table: what a project means to spend in a month, and when to warn its PI."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from ocx.persistence.base import Base, IdMixin, TimestampMixin

__all__ = ["Budget"]


class Budget(IdMixin, TimestampMixin, Base):
    """A project's monthly budget; ``thresholds`` are percentages of ``amount`` whose
    crossing notifies the PI once per month each."""

    __tablename__ = "budgets"

    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), unique=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    thresholds: Mapped[list[int]] = mapped_column(JSON, default=list)
