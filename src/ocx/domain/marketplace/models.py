"""Marketplace tables."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ocx.domain.identity.models import Organization
from ocx.domain.marketplace.states import RateKind
from ocx.persistence.base import Base, IdMixin, TimestampMixin, str_enum

__all__ = ["Offering", "OfferingAudience", "Plan", "Provider", "Rate", "RateKind"]



class Provider(IdMixin, TimestampMixin, Base):
    """An organization that sells on the exchange; its org admins run it."""

    __tablename__ = "providers"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), unique=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    display_name: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(Text, default="")

    organization: Mapped[Organization] = relationship()


class Offering(IdMixin, TimestampMixin, Base):
    """Something a provider sells: a kind of resource, served by one driver."""

    __tablename__ = "offerings"
    __table_args__ = (UniqueConstraint("provider_id", "name"),)

    provider_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("providers.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(63))
    kind: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    driver: Mapped[str] = mapped_column(String(63))
    # Validated by the driver's Settings; secret fields are sealed (never stored in clear).
    driver_settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # [{"name": "cores", "unit": "core", "max": 64, "default": 4}, ...]
    components: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    auto_approve: Mapped[bool] = mapped_column(default=False)
    # Renewals an auto-approving offering grants without a person, and how far after the
    # allocation's start they may reach: no allocation lives forever unreviewed.
    auto_renewals: Mapped[int] = mapped_column(default=2, server_default="2")
    auto_term_days: Mapped[int] = mapped_column(default=366, server_default="366")
    is_active: Mapped[bool] = mapped_column(default=True)

    provider: Mapped[Provider] = relationship()
    plans: Mapped[list[Plan]] = relationship(back_populates="offering")
    # Organizations that may request it; none means every organization.
    audience: Mapped[list[OfferingAudience]] = relationship(
        cascade="all, delete-orphan", lazy="selectin")

    def component(self, name: str) -> dict[str, Any] | None:
        """The component called ``name``, if the offering has one."""
        return next((c for c in self.components if c["name"] == name), None)


class OfferingAudience(Base):
    """An organization a restricted offering is open to."""

    __tablename__ = "offering_audiences"

    offering_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("offerings.id", ondelete="CASCADE"), primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True, index=True)


class Plan(IdMixin, TimestampMixin, Base):
    """A way to pay for an offering: a currency and dated rates per component."""

    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("offering_id", "name"),)

    offering_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("offerings.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(63))
    description: Mapped[str] = mapped_column(Text, default="")
    currency: Mapped[str] = mapped_column(String(3), default="USD")

    offering: Mapped[Offering] = relationship(back_populates="plans")
    rates: Mapped[list[Rate]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="Rate.valid_from")


class Rate(IdMixin, TimestampMixin, Base):
    """The price of one unit of a component, in force from ``valid_from`` to ``valid_until``."""

    __tablename__ = "rates"

    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"),
                                               index=True)
    component: Mapped[str] = mapped_column(String(63))
    kind: Mapped[RateKind] = mapped_column(str_enum(RateKind, "rate_kind"))
    unit: Mapped[str] = mapped_column(String(32))  # e.g. "core-hour", "GiB-month"
    unit_price: Mapped[Decimal] = mapped_column(Numeric(18, 6))
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime | None] = mapped_column(default=None)

    plan: Mapped[Plan] = relationship(back_populates="rates")
