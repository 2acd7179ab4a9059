"""Billing tables: plan rules (service units, billed states), outages, credits, invoices.

Prices themselves are the marketplace's dated ``Rate`` rows of a ``Plan``; billing adds
what rating needs besides them and what rating produces.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Connection,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    event,
    select,
)
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship

from ocx.domain.billing.errors import InvoiceFinal
from ocx.domain.billing.states import InvoiceKind, InvoiceState
from ocx.persistence.base import Base, IdMixin, TimestampMixin, str_enum

__all__ = ["Credit", "Invoice", "InvoiceCredit", "InvoiceLine", "Outage", "PlanRules"]

MONEY = Numeric(18, 2)


class PlanRules(TimestampMixin, Base):
    """How a plan turns usage spans into priced quantities (``schemas.RatingRules``)."""

    __tablename__ = "plan_rules"

    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Outage(IdMixin, TimestampMixin, Base):
    """A time window in which a provider's (or one offering's) usage is not billed."""

    __tablename__ = "outages"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="window"),)

    provider_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True, default=None)
    offering_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("offerings.id", ondelete="CASCADE"), index=True, default=None)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text, default="")


class Credit(IdMixin, TimestampMixin, Base):
    """Money an organization (or one of its projects) may spend instead of paying.

    ``percent`` below 100 makes it a subsidy: it covers that share of each eligible line,
    still up to ``amount`` in all.
    """

    __tablename__ = "credits"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True, default=None)
    name: Mapped[str] = mapped_column(String(63))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(100))
    priority: Mapped[int] = mapped_column(Integer, default=100)
    # fnmatch patterns of components it may not pay for, e.g. ["gpu*"]
    excluded_components: Mapped[list[str]] = mapped_column(JSON, default=list)
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime | None] = mapped_column(default=None)


class Invoice(IdMixin, TimestampMixin, Base):
    """One organization's bill for one month, or a credit note correcting a final one."""

    __tablename__ = "invoices"

    # invoice:<org id>:<period> or credit_note:<invoice id>:<n>: one invoice a month
    key: Mapped[str] = mapped_column(String(120), unique=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[InvoiceKind] = mapped_column(str_enum(InvoiceKind, "invoice_kind"))
    state: Mapped[InvoiceState] = mapped_column(str_enum(InvoiceState, "invoice_state"))
    period: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[Decimal] = mapped_column(MONEY)
    credits_total: Mapped[Decimal] = mapped_column(MONEY)
    total: Mapped[Decimal] = mapped_column(MONEY)
    # NO ACTION, not RESTRICT: checked at the end of a statement, so that deleting a whole
    # organization's invoices at once works; deleting only a corrected invoice still fails.
    corrects_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("invoices.id"), index=True, default=None)
    reason: Mapped[str] = mapped_column(Text, default="")
    finalized_at: Mapped[datetime | None] = mapped_column(default=None)
    finalized_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="InvoiceLine.position")
    credits: Mapped[list[InvoiceCredit]] = relationship(
        cascade="all, delete-orphan", order_by="InvoiceCredit.position")


class InvoiceLine(IdMixin, Base):
    """Quantity x rate = amount for one project's resource, meter and rate in the month."""

    __tablename__ = "invoice_lines"

    invoice_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="RESTRICT"), index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    provider_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    offering_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    resource_kind: Mapped[str] = mapped_column(String(63))
    resource_id: Mapped[str] = mapped_column(String(64))
    meter: Mapped[str] = mapped_column(String(63))
    component: Mapped[str] = mapped_column(String(63))
    description: Mapped[str] = mapped_column(Text, default="")
    quantity: Mapped[Decimal] = mapped_column(Numeric(24, 6))
    unit: Mapped[str] = mapped_column(String(32))
    rate_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(18, 6))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    # The usage spans this line was rated from (their integer ids, ascending), for
    # tracing an amount back.
    span_ids: Mapped[list[int]] = mapped_column(JSON, default=list)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class InvoiceCredit(IdMixin, Base):
    """How much of one credit an invoice used for one project."""

    __tablename__ = "invoice_credits"

    invoice_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    credit_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("credits.id", ondelete="RESTRICT"), index=True)
    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="RESTRICT"))
    amount: Mapped[Decimal] = mapped_column(MONEY)


# A final invoice never changes, whatever code tries: these guards refuse, at flush time,
# any update or delete of a final invoice, of its lines or of its credits (the state is
# read from the database, so only the draft -> final step itself passes).

def _refuse_if_final(connection: Connection, invoice_id: uuid.UUID) -> None:
    state = connection.scalar(select(Invoice.state).where(Invoice.id == invoice_id))
    if state == InvoiceState.FINAL:
        raise InvoiceFinal(f"invoice {invoice_id} is final and never changes; "
                           "correct it with a credit note")


@event.listens_for(Invoice, "before_update")
@event.listens_for(Invoice, "before_delete")
def _guard_invoice(mapper: Mapper[Invoice], connection: Connection, target: Invoice) -> None:
    _refuse_if_final(connection, target.id)


@event.listens_for(InvoiceLine, "before_update")
@event.listens_for(InvoiceLine, "before_delete")
@event.listens_for(InvoiceCredit, "before_update")
@event.listens_for(InvoiceCredit, "before_delete")
def _guard_part(mapper: Mapper[Any], connection: Connection,
                target: InvoiceLine | InvoiceCredit) -> None:
    _refuse_if_final(connection, target.invoice_id)


@event.listens_for(InvoiceLine, "before_insert")
def _guard_new_line(mapper: Mapper[InvoiceLine], connection: Connection,
                    target: InvoiceLine) -> None:
    if target.invoice is not None and target.invoice.state is InvoiceState.FINAL:
        raise InvoiceFinal(f"invoice {target.invoice_id} is final and never changes")
