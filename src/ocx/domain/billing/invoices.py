"""Invoices: one per organization per month, draft -> final; credit notes correct them.

A draft can be generated again (its content is replaced, its id kept); a final invoice
never changes: every change goes through ``_editable`` and refuses final invoices, and
corrections are credit notes that reference the final invoice.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session

from ocx.domain import policy
from ocx.domain.actor import Actor
from ocx.domain.audit import service as audit
from ocx.domain.billing import commitments, credits, schemas
from ocx.domain.billing.errors import InvoiceFinal, Unpriced
from ocx.domain.billing.models import Credit, Invoice, InvoiceCredit, InvoiceLine
from ocx.domain.billing.pricebook import book_of, outage_windows
from ocx.domain.billing.rating import Book, RatedLine, Span, Window, rate, to_places
from ocx.domain.billing.spans import load_spans as load_spans
from ocx.domain.billing.states import InvoiceKind, InvoiceState
from ocx.domain.identity.models import Organization
from ocx.domain.identity.service import find_org, find_project
from ocx.domain.marketplace.models import Offering, Plan
from ocx.domain.metering.bulk import collector_paused  # used by budgets, tests
from ocx.domain.policy import Action, Target
from ocx.errors import Conflict, InvalidInput, NotFound
from ocx.persistence.base import utcnow
from ocx.persistence.pagination import Page, paginate

LINES = cast(Table, InvoiceLine.__table__)

DEFAULT_CURRENCY = "USD"


def invoice_target(invoice: Invoice, project_id: uuid.UUID | None = None) -> Target:
    """The policy target of an invoice (or of one project's page of it)."""
    return Target(org_id=invoice.organization_id, project_id=project_id)


def _books(session: Session, spans: list[Span]) -> tuple[dict[str, Book], dict[str, list[Window]]]:
    books: dict[str, Book] = {}
    outages: dict[str, list[Window]] = {}
    for plan_id in {s.plan_id for s in spans if s.plan_id}:
        plan = session.get(Plan, uuid.UUID(plan_id))
        assert plan is not None
        books[plan_id] = book_of(session, plan)
    for offering_id in {s.offering_id for s in spans if s.offering_id}:
        offering = session.get(Offering, uuid.UUID(offering_id))
        assert offering is not None
        outages[offering_id] = outage_windows(session, offering)
    return books, outages


def rate_organization(session: Session, spans: list[Span], start: datetime,
                      end: datetime) -> tuple[str, list[RatedLine]]:
    """(currency, rated lines) of one organization's spans in [start, end).

    Raises:
        Unpriced: usage the price book does not price, or in several currencies.
    """
    books, outages = _books(session, spans)
    lines = rate(spans, books, Window(start, end), outages)
    by_rate = {price.id: book.currency for book in books.values() for price in book.prices}
    currencies = {by_rate[line.key.rate_id] for line in lines}
    if len(currencies) > 1:
        raise Unpriced(f"usage is priced in several currencies ({', '.join(sorted(currencies))})"
                       "; one invoice has one currency")
    return (currencies.pop() if currencies else DEFAULT_CURRENCY), lines


def _line_row(position: int, line: RatedLine, as_uuid: dict[str, uuid.UUID]
              ) -> dict[str, Any]:
    """The invoice line of a rated line, as a row (``as_uuid``: ids parsed so far)."""
    key = line.key

    def ref(text: str | None) -> uuid.UUID | None:
        if not text:
            return None
        found = as_uuid.get(text)
        if found is None:
            found = as_uuid[text] = uuid.UUID(text)
        return found

    return {
        "id": uuid.uuid4(), "position": position, "project_id": ref(key.project_id),
        "user_id": ref(key.user_id), "provider_id": ref(key.provider_id),
        "offering_id": ref(key.offering_id), "resource_kind": key.resource_kind,
        "resource_id": key.resource_id, "meter": key.meter, "component": key.component,
        "description": f"{key.component} of {key.resource_kind} {key.resource_id}",
        "quantity": to_places(line.quantity), "unit": key.unit, "rate_id": ref(key.rate_id),
        "unit_price": key.unit_price, "amount": line.amount,
        "span_ids": sorted(line.span_ids)}


def _fill(session: Session, invoice: Invoice, currency: str, lines: list[RatedLine]) -> None:
    """Put the rated lines and the credits they use into a draft, with its totals. The
    lines (thousands for a large organization) are written as rows, past the ORM; the
    invoice's ``lines`` are read back when next used."""
    invoice.currency = currency
    session.flush()  # the draft's row exists: its lines refer to it
    session.execute(delete(LINES).where(LINES.c.invoice_id == invoice.id))
    as_uuid: dict[str, uuid.UUID] = {}
    rows = [_line_row(i, line, as_uuid) for i, line in enumerate(lines)]
    if rows:
        session.execute(insert(LINES), [{**row, "invoice_id": invoice.id} for row in rows])
    session.expire(invoice, ["lines"])
    owed = [credits.Owed(line.key.project_id, line.key.component, line.amount)
            for line in lines]
    available = credits.usable(session, invoice.organization_id, currency,
                               invoice.period_start, invoice.period_end)
    used = credits.apply_credits(owed, available)
    invoice.credits = [InvoiceCredit(position=i, credit_id=uuid.UUID(credit_id),
                                     project_id=uuid.UUID(project_id), amount=amount)
                       for i, (credit_id, project_id, amount) in enumerate(used)]
    invoice.subtotal = sum((line.amount for line in lines), Decimal(0))
    invoice.credits_total = sum((c.amount for c in invoice.credits), Decimal(0))
    invoice.total = invoice.subtotal - invoice.credits_total


def _editable(invoice: Invoice) -> Invoice:
    """The invoice, if it may still change. Raises InvoiceFinal for a final invoice."""
    if invoice.state is InvoiceState.FINAL:
        raise InvoiceFinal(f"invoice {invoice.id} is final and never changes; "
                           "correct it with a credit note")
    return invoice


def _draft_for(session: Session, org_id: uuid.UUID, period: str, start: datetime,
               end: datetime) -> Invoice:
    key = f"invoice:{org_id}:{period}"
    invoice = session.scalar(select(Invoice).where(Invoice.key == key))
    if invoice is not None:
        return _editable(invoice)
    invoice = Invoice(key=key, organization_id=org_id, kind=InvoiceKind.INVOICE,
                      state=InvoiceState.DRAFT, period=period, period_start=start,
                      period_end=end, currency=DEFAULT_CURRENCY, subtotal=Decimal(0),
                      credits_total=Decimal(0), total=Decimal(0))
    session.add(invoice)
    return invoice


def generate(session: Session, actor: Actor, body: schemas.InvoiceGenerate) -> list[Invoice]:
    """Rate a month into draft invoices: one organization's, or every organization's
    with usage (final invoices are left as they are). Operators only.

    Raises:
        InvoiceFinal: the named organization's invoice for the month is final.
        Unpriced: some usage has no rule or rate in the price book.
    """
    start, end = schemas.month_bounds(body.period)
    org_ids: set[uuid.UUID] | None = None
    if body.organization is not None:
        org = find_org(session, body.organization)
        policy.authorize(actor, Action.INVOICE_GENERATE, Target(org_id=org.id))
        org_ids = {org.id}
    else:
        policy.authorize(actor, Action.INVOICE_GENERATE)
    with collector_paused():
        return _generate(session, actor, body.period, org_ids, start, end)


def _generate(session: Session, actor: Actor, period: str, org_ids: set[uuid.UUID] | None,
              start: datetime, end: datetime) -> list[Invoice]:
    spans = load_spans(session, org_ids, start, end)
    committed = commitments.committed_lines(session, org_ids, start, end)
    generated = []
    for org_id in sorted(org_ids or set(spans) | set(committed)):
        invoice = _draft_for(session, org_id, period, start, end) \
            if org_ids else _draft_or_none(session, org_id, period, start, end)
        if invoice is None:
            continue
        currency, lines = commitments.merge(
            *rate_organization(session, spans.get(org_id, []), start, end),
            committed.get(org_id, []))
        _fill(session, invoice, currency, lines)
        session.flush()
        audit.record(session, actor, "invoice.generate", "invoice", invoice.id,
                     organization_id=org_id,
                     changes={"period": period, "lines": len(lines),
                              "total": str(invoice.total)})
        generated.append(invoice)
    return generated


def _draft_or_none(session: Session, org_id: uuid.UUID, period: str, start: datetime,
                   end: datetime) -> Invoice | None:
    try:
        return _draft_for(session, org_id, period, start, end)
    except InvoiceFinal:
        return None


def find_invoice(session: Session, invoice_id: uuid.UUID) -> Invoice:
    """An invoice by id. Raises NotFound."""
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound("invoice not found")
    return invoice


def get(session: Session, actor: Actor, invoice_id: uuid.UUID) -> Invoice:
    """One invoice with its lines (operators, the organization's admins)."""
    invoice = find_invoice(session, invoice_id)
    policy.authorize(actor, Action.INVOICE_READ, invoice_target(invoice))
    return invoice


def list_invoices(session: Session, actor: Actor, *, cursor: str | None, limit: int,
                  organization: str | None = None, period: str | None = None,
                  state: InvoiceState | None = None) -> Page[Invoice]:
    """Invoices the actor may read: operators all, organization admins their own."""
    policy.authorize(actor, Action.INVOICE_LIST)
    stmt = select(Invoice)
    if not actor.is_operator:
        stmt = stmt.where(Invoice.organization_id.in_(actor.admin_org_ids()))
    if organization:
        stmt = stmt.where(Invoice.organization_id == find_org(session, organization).id)
    if period:
        stmt = stmt.where(Invoice.period == period)
    if state:
        stmt = stmt.where(Invoice.state == state)
    return paginate(session, stmt, Invoice, cursor=cursor, limit=limit)


def finalize(session: Session, actor: Actor, invoice_id: uuid.UUID,
             now: datetime | None = None) -> Invoice:
    """Make a draft final, once its month is over (operators). It never changes again.

    Raises:
        InvoiceFinal: it is final already.
        Conflict: the month is not over, or a credit it uses was spent meanwhile.
    """
    invoice = find_invoice(session, invoice_id)
    policy.authorize(actor, Action.INVOICE_FINALIZE, invoice_target(invoice))
    _editable(invoice)
    now = now or utcnow()
    if invoice.kind is InvoiceKind.INVOICE and invoice.period_end > now:
        raise Conflict(f"{invoice.period} is not over until {invoice.period_end.isoformat()}")
    _check_credits_left(session, invoice)
    invoice.state, invoice.finalized_at, invoice.finalized_by = (
        InvoiceState.FINAL, now, actor.user_id)
    audit.record(session, actor, "invoice.finalize", "invoice", invoice.id,
                 organization_id=invoice.organization_id,
                 changes={"period": invoice.period, "total": str(invoice.total)})
    return invoice


def _check_credits_left(session: Session, invoice: Invoice) -> None:
    wanted: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    for use in invoice.credits:
        wanted[use.credit_id] += use.amount
    spent = credits.spent(session, list(wanted))
    for credit_id, amount in wanted.items():
        credit = session.get(Credit, credit_id)
        assert credit is not None
        if spent.get(credit_id, Decimal(0)) + amount > credit.amount:
            raise Conflict(f"credit {credit.name} was spent by another invoice since this "
                           "draft was made; generate it again")


def credit_note(session: Session, actor: Actor, invoice_id: uuid.UUID,
                body: schemas.CreditNoteCreate) -> Invoice:
    """Correct a final invoice with a credit note (a draft; finalize it like an invoice).

    Raises:
        Conflict: the invoice is a draft (generate it again instead) or a credit note.
        InvalidInput: a line's project is not the organization's.
    """
    original = find_invoice(session, invoice_id)
    policy.authorize(actor, Action.INVOICE_CORRECT, invoice_target(original))
    if original.state is not InvoiceState.FINAL or original.kind is not InvoiceKind.INVOICE:
        raise Conflict("only a final invoice takes credit notes; a draft is generated again")
    count = len(list(session.scalars(select(Invoice.id).where(
        Invoice.corrects_id == original.id))))
    note = Invoice(key=f"credit_note:{original.id}:{count + 1}",
                   organization_id=original.organization_id, kind=InvoiceKind.CREDIT_NOTE,
                   state=InvoiceState.DRAFT, period=original.period,
                   period_start=original.period_start, period_end=original.period_end,
                   currency=original.currency, corrects_id=original.id, reason=body.reason,
                   credits_total=Decimal(0))
    note.lines = [_note_line(session, original, i, line) for i, line in enumerate(body.lines)]
    note.subtotal = note.total = sum((line.amount for line in note.lines), Decimal(0))
    session.add(note)
    session.flush()
    audit.record(session, actor, "invoice.credit_note", "invoice", note.id,
                 organization_id=note.organization_id,
                 changes={"corrects": str(original.id), "total": str(note.total),
                          "reason": body.reason})
    return note


def _note_line(session: Session, original: Invoice, position: int,
               line: schemas.CreditNoteLine) -> InvoiceLine:
    project = find_project(session, line.project)
    if project.organization_id != original.organization_id:
        raise InvalidInput(f"lines: project {project.name} is not on this invoice's "
                           "organization")
    amount = -line.amount
    return InvoiceLine(position=position, project_id=project.id, resource_kind="correction",
                       resource_id=str(original.id), meter="correction",
                       component="correction", description=line.description,
                       quantity=Decimal(1), unit="each", unit_price=amount, amount=amount)


def organization_name(session: Session, invoice: Invoice) -> str:
    """The name of the invoiced organization."""
    org = session.get(Organization, invoice.organization_id)
    return org.name if org else str(invoice.organization_id)
