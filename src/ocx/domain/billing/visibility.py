"""Which invoices a person sees: whole invoices of the organizations they administer
(operators: all), and, as a PI, their projects' pages of their organizations' others.

The policy decides (INVOICE_READ for a whole invoice, INVOICE_SUMMARY for one project's
page); this module only finds the invoices and pages it would allow, for listing them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ocx.domain import policy
from ocx.domain.actor import Actor
from ocx.domain.billing import invoices
from ocx.domain.billing.models import Invoice, InvoiceLine
from ocx.domain.billing.schemas import InvoiceDetail, InvoicePublic
from ocx.domain.billing.states import InvoiceState
from ocx.domain.identity.models import Project
from ocx.domain.identity.roles import ProjectRole
from ocx.domain.policy import Action
from ocx.errors import NotFound

LIMIT = 100


@dataclass(frozen=True)
class ProjectPage:
    """One project's page of an invoice: the project's id and name."""

    project_id: uuid.UUID
    name: str


@dataclass(frozen=True)
class VisibleInvoice:
    """An invoice as a person sees it: whole, or only some projects' pages."""

    invoice: InvoicePublic
    organization: str
    whole: bool  # the person may read every line and download the exports
    pages: list[ProjectPage]  # the project pages the person may open, by name
    detail: InvoiceDetail | None = None  # lines and credits, of a whole invoice when asked


def _pi_projects(actor: Actor) -> set[uuid.UUID]:
    """Projects the actor leads as PI outside the organizations they administer."""
    admin = actor.admin_org_ids()
    return {project for project, role in actor.project_roles.items()
            if role is ProjectRole.PI and actor.project_orgs.get(project) not in admin}


def _pages(session: Session, invoice: Invoice, only: set[uuid.UUID] | None) -> list[ProjectPage]:
    ids = {line.project_id for line in invoice.lines
           if only is None or line.project_id in only}
    found = (session.get(Project, project_id) for project_id in ids)
    return sorted((ProjectPage(p.id, p.name) for p in found if p), key=lambda p: p.name)


def _view(session: Session, invoice: Invoice, whole: bool,
          only: set[uuid.UUID] | None = None, detailed: bool = False) -> VisibleInvoice:
    return VisibleInvoice(invoice=InvoicePublic.model_validate(invoice),
                          organization=invoices.organization_name(session, invoice),
                          whole=whole,  # a list of whole invoices needs no pages
                          pages=_pages(session, invoice, only) if detailed or not whole
                          else [],
                          detail=InvoiceDetail.model_validate(invoice) if detailed else None)


def visible_invoices(session: Session, actor: Actor, *, period: str | None = None,
                     state: InvoiceState | None = None, limit: int = LIMIT
                     ) -> list[VisibleInvoice]:
    """Up to ``limit`` invoices the actor may see (newest period first): whole ones
    (operators, organization admins), then those holding pages of projects they lead."""
    whole = invoices.list_invoices(session, actor, cursor=None, limit=limit, period=period,
                                   state=state).items if (
        actor.is_operator or actor.admin_org_ids()) else []
    seen = [_view(session, invoice, True) for invoice in whole]
    led = set() if actor.is_operator else _pi_projects(actor)
    if led:
        stmt = select(Invoice).where(Invoice.id.in_(
            select(InvoiceLine.invoice_id).where(InvoiceLine.project_id.in_(led))))
        if period:
            stmt = stmt.where(Invoice.period == period)
        if state:
            stmt = stmt.where(Invoice.state == state)
        seen += [_view(session, invoice, False, led)
                 for invoice in session.scalars(
                     stmt.order_by(Invoice.created_at.desc()).limit(limit))]
    ordered = sorted(seen, key=lambda v: (v.invoice.period, v.invoice.created_at), reverse=True)
    return ordered[:limit]


def visible_invoice(session: Session, actor: Actor, invoice_id: uuid.UUID) -> VisibleInvoice:
    """One invoice as the actor may see it: whole (with its lines and credits), or the
    pages of the projects they lead.

    Raises:
        NotFound: no such invoice, or none of it is the actor's to see.
    """
    try:
        return _view(session, invoices.get(session, actor, invoice_id), True, detailed=True)
    except NotFound:
        pass
    invoice = invoices.find_invoice(session, invoice_id)
    view = _view(session, invoice, False, {
        project for project in _pi_projects(actor) if policy.can(
            actor, Action.INVOICE_SUMMARY, invoices.invoice_target(invoice, project))})
    if not view.pages:
        raise NotFound("invoice not found")
    return view
