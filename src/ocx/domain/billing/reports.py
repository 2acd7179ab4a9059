"""Showback: a month's invoiced amounts rolled up by project, user, organization or provider."""

from __future__ import annotations

import uuid
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ocx.domain import policy
from ocx.domain.actor import Actor
from ocx.domain.billing.models import Invoice, InvoiceLine
from ocx.domain.billing.schemas import ShowbackBy, ShowbackRow
from ocx.domain.billing.states import InvoiceKind
from ocx.domain.identity.models import Organization, Project, User
from ocx.domain.marketplace.models import Provider
from ocx.domain.policy import Action


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
    sums: dict[tuple[uuid.UUID | None, str], Decimal] = defaultdict(Decimal)
    for invoice in session.scalars(stmt):
        for line in invoice.lines:
            sums[(_key(by, invoice, line), invoice.currency)] += line.amount
    names = _names(session, by, {key for key, _ in sums if key is not None})
    rows = [ShowbackRow(key=str(key) if key else "-", name=names.get(key, "(unknown)")
                        if key else "(none)", currency=currency, amount=amount)
            for (key, currency), amount in sums.items()]
    return sorted(rows, key=lambda row: (-row.amount, row.name))
