"""Showback: a month's invoiced amounts rolled up by project, user, organization or provider;
and a provider's revenue: what the month's invoices charge for its offerings."""

from __future__ import annotations

import uuid
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ocx.domain import policy
from ocx.domain.actor import Actor
from ocx.domain.billing.models import Invoice, InvoiceLine
from ocx.domain.billing.schemas import ShowbackBy, ShowbackRow
from ocx.domain.billing.states import InvoiceKind
from ocx.domain.identity.models import Organization, Project, User
from ocx.domain.marketplace.models import Offering, Provider
from ocx.domain.marketplace.service import find_provider, provider_target
from ocx.domain.policy import Action

# Amounts by (what they are grouped by, currency).
Sums = dict[tuple[uuid.UUID | None, str], Decimal]


def _key(by: ShowbackBy, invoice: Invoice, line: InvoiceLine) -> uuid.UUID | None:
    return {ShowbackBy.PROJECT: line.project_id, ShowbackBy.USER: line.user_id,
            ShowbackBy.ORG: invoice.organization_id,
            ShowbackBy.PROVIDER: line.provider_id}[by]


def _names(session: Session, by: ShowbackBy, keys: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    ident, column = {ShowbackBy.PROJECT: (Project.id, Project.name),
                     ShowbackBy.USER: (User.id, User.email),
                     ShowbackBy.ORG: (Organization.id, Organization.name),
                     ShowbackBy.PROVIDER: (Provider.id, Provider.name)}[by]
    rows = session.execute(select(ident, column).where(ident.in_(keys)))
    return {row_id: name for row_id, name in rows}


def showback(session: Session, actor: Actor, period: str, by: ShowbackBy) -> list[ShowbackRow]:
    """Invoiced usage of ``period`` (drafts included, before credits) grouped ``by``;
    operators see every organization, organization admins their own."""
    policy.authorize(actor, Action.REPORT_SHOWBACK)
    stmt = select(Invoice).where(Invoice.period == period,
                                 Invoice.kind == InvoiceKind.INVOICE)
    if not actor.is_operator:
        stmt = stmt.where(Invoice.organization_id.in_(actor.admin_org_ids()))
    sums: Sums = defaultdict(Decimal)
    for invoice in session.scalars(stmt):
        for line in invoice.lines:
            sums[(_key(by, invoice, line), invoice.currency)] += line.amount
    return _rows(sums, _names(session, by, {key for key, _ in sums if key is not None}))


def _rows(sums: Sums, names: dict[uuid.UUID, str]) -> list[ShowbackRow]:
    """One row per (key, currency), named, largest amount first."""
    rows = [ShowbackRow(key=str(key) if key else "-", name=names.get(key, "(unknown)")
                        if key else "(none)", currency=currency, amount=amount)
            for (key, currency), amount in sums.items()]
    return sorted(rows, key=lambda row: (-row.amount, row.name))


def latest_revenue_period(session: Session, actor: Actor,
                          provider_refs: list[str]) -> str | None:
    """The latest month (YYYY-MM) whose invoices charge for any of the providers' offerings,
    None if none does; their admins and operators only."""
    ids = []
    for ref in provider_refs:
        provider = find_provider(session, ref)
        policy.authorize(actor, Action.REPORT_REVENUE, provider_target(provider))
        ids.append(provider.id)
    if not ids:
        return None
    latest = select(func.max(Invoice.period)).select_from(InvoiceLine).join(Invoice).where(
        Invoice.kind == InvoiceKind.INVOICE, InvoiceLine.provider_id.in_(ids))
    return session.scalar(latest)


def provider_revenue(session: Session, actor: Actor, provider_ref: str,
                     period: str) -> list[ShowbackRow]:
    """What ``period``'s invoices (drafts included, before credits) charge for a provider's
    offerings, one row per offering and currency; its admins and operators only."""
    provider = find_provider(session, provider_ref)
    policy.authorize(actor, Action.REPORT_REVENUE, provider_target(provider))
    lines = select(InvoiceLine.offering_id, Invoice.currency, InvoiceLine.amount).join(
        Invoice).where(Invoice.period == period, Invoice.kind == InvoiceKind.INVOICE,
                       InvoiceLine.provider_id == provider.id)
    sums: Sums = defaultdict(Decimal)
    for offering_id, currency, amount in session.execute(lines):
        sums[(offering_id, currency)] += amount
    names = {row_id: name for row_id, name in session.execute(
        select(Offering.id, Offering.name).where(
            Offering.id.in_({key for key, _ in sums if key is not None})))}
    return _rows(sums, names)
