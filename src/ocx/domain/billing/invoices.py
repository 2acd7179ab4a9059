"""Invoices: one per organization per month, draft -> final; credit notes correct them.

A draft can be generated again (its content is replaced, its id kept); a final invoice
never changes: every change goes through ``_editable`` and refuses final invoices, and
corrections are credit notes that reference the final invoice.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ocx.domain import policy
from ocx.domain.actor import Actor
from ocx.domain.allocations.models import Allocation
from ocx.domain.audit import service as audit
from ocx.domain.billing import credits, schemas
from ocx.domain.billing.errors import InvoiceFinal, Unpriced
from ocx.domain.billing.models import Credit, Invoice, InvoiceCredit, InvoiceLine
from ocx.domain.billing.pricebook import book_of, outage_windows
from ocx.domain.billing.rating import Book, RatedLine, Span, Window, rate, to_places
from ocx.domain.billing.states import InvoiceKind, InvoiceState
from ocx.domain.identity.models import Organization, Project
from ocx.domain.identity.service import find_org, find_project
from ocx.domain.marketplace.models import Offering, Plan
from ocx.domain.marketplace.service import find_plan
from ocx.domain.metering.bulk import MemoRead
from ocx.domain.metering.models import UsageSpan
from ocx.domain.policy import Action, Target
from ocx.errors import Conflict, InvalidInput, NotFound
from ocx.persistence.base import utcnow
from ocx.persistence.pagination import Page, paginate

DEFAULT_CURRENCY = "USD"
SPAN_COLUMNS = [column.expression for column in (  # what rating reads of a span
    UsageSpan.id, UsageSpan.project_id, UsageSpan.resource_kind, UsageSpan.resource_id,
    UsageSpan.meter, UsageSpan.quantity, UsageSpan.unit, UsageSpan.started_at,
    UsageSpan.ended_at, UsageSpan.offering_id, UsageSpan.provider_id, UsageSpan.user_id,
    UsageSpan.attributes, UsageSpan.allocation_id, Project.organization_id)]


def invoice_target(invoice: Invoice, project_id: uuid.UUID | None = None) -> Target:
    """The policy target of an invoice (or of one project's page of it)."""
    return Target(org_id=invoice.organization_id, project_id=project_id)


def load_spans(session: Session, org_ids: set[uuid.UUID] | None, start: datetime,
               end: datetime) -> dict[uuid.UUID, list[Span]]:
    """Spans overlapping [start, end) of the organizations' projects, by organization.

    One query of only the columns rating needs (no ORM objects: a month can hold
    hundreds of thousands of spans); ids become strings once per distinct value.
    """
    read = MemoRead(session, SPAN_COLUMNS)
    stmt = (select(*read.selected)
            .join(Project, Project.id == UsageSpan.project_id)
            .where(UsageSpan.started_at < end, UsageSpan.ended_at > start))
    if org_ids is not None:
        stmt = stmt.where(Project.organization_id.in_(org_ids))
    rows = read.read(session, stmt)
    plan_of = _plans_of(session, {row[13] for row in rows if row[13]},
                        {row[9] for row in rows if row[9]})
    text: dict[int, str] = {}  # by object: the read gives one object per distinct id

    def as_str(value: uuid.UUID | None) -> str | None:
        if value is None:
            return None
        found = text.get(id(value))
        if found is None:
            found = text[id(value)] = str(value)
        return found

    found: dict[uuid.UUID, list[Span]] = defaultdict(list)
    for (span_id, project_id, kind, resource_id, meter, quantity, unit, started_at, ended_at,
         offering_id, provider_id, user_id, attributes, allocation_id, org_id) in rows:
        found[org_id].append(Span(
            id=str(span_id), project_id=str(as_str(project_id)), resource_kind=kind,
            resource_id=resource_id, meter=meter, quantity=quantity, unit=unit,
            started_at=started_at, ended_at=ended_at, offering_id=as_str(offering_id),
            provider_id=as_str(provider_id), user_id=as_str(user_id),
            attributes=attributes or {}, plan_id=plan_of(allocation_id, offering_id)))
    return found


def _plans_of(session: Session, allocation_ids: set[uuid.UUID], offering_ids: set[uuid.UUID]
              ) -> Callable[[uuid.UUID | None, uuid.UUID | None], str | None]:
    """Which plan prices a span of (allocation, offering): the allocation's, else the
    offering's only plan."""
    chosen = dict(session.execute(select(Allocation.id, Allocation.plan_id).where(
        Allocation.id.in_(allocation_ids))).all()) if allocation_ids else {}
    default = {o.id: find_plan(session, o, None)
               for o in session.scalars(select(Offering).where(Offering.id.in_(offering_ids)))}
    memo: dict[tuple[uuid.UUID | None, uuid.UUID | None], str | None] = {}

    def plan_of(allocation_id: uuid.UUID | None, offering_id: uuid.UUID | None) -> str | None:
        key = (allocation_id, offering_id)
        if key not in memo:
            plan = default.get(offering_id) if offering_id else None
            plan_id = (chosen.get(allocation_id) if allocation_id else None) or (
                plan.id if plan else None)
            memo[key] = str(plan_id) if plan_id is not None else None
        return memo[key]

    return plan_of


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
    by_plan = {s.id: books[s.plan_id].currency for s in spans if s.plan_id in books}
    currencies = {by_plan[span_id] for line in lines for span_id in line.span_ids}
    if len(currencies) > 1:
        raise Unpriced(f"usage is priced in several currencies ({', '.join(sorted(currencies))})"
                       "; one invoice has one currency")
    return (currencies.pop() if currencies else DEFAULT_CURRENCY), lines


def _line_row(position: int, line: RatedLine) -> InvoiceLine:
    key = line.key
    return InvoiceLine(
        position=position, project_id=uuid.UUID(key.project_id),
        user_id=uuid.UUID(key.user_id) if key.user_id else None,
        provider_id=uuid.UUID(key.provider_id) if key.provider_id else None,
        offering_id=uuid.UUID(key.offering_id) if key.offering_id else None,
        resource_kind=key.resource_kind, resource_id=key.resource_id, meter=key.meter,
        component=key.component, description=f"{key.component} of {key.resource_kind} "
                                             f"{key.resource_id}",
        quantity=to_places(line.quantity), unit=key.unit,
        rate_id=uuid.UUID(key.rate_id) if key.rate_id else None,
        unit_price=key.unit_price, amount=line.amount, span_ids=sorted(line.span_ids))


def _fill(session: Session, invoice: Invoice, currency: str, lines: list[RatedLine]) -> None:
    """Put the rated lines and the credits they use into a draft, with its totals."""
    invoice.currency = currency
    invoice.lines = [_line_row(i, line) for i, line in enumerate(lines)]
    owed = [credits.Owed(line.key.project_id, line.key.component, line.amount)
            for line in lines]
    available = credits.usable(session, invoice.organization_id, currency,
                               invoice.period_start, invoice.period_end)
    used = credits.apply_credits(owed, available)
    invoice.credits = [InvoiceCredit(position=i, credit_id=uuid.UUID(credit_id),
                                     project_id=uuid.UUID(project_id), amount=amount)
                       for i, (credit_id, project_id, amount) in enumerate(used)]
    invoice.subtotal = sum((line.amount for line in invoice.lines), Decimal(0))
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
    spans = load_spans(session, org_ids, start, end)
    generated = []
    for org_id in sorted(org_ids or set(spans)):
        invoice = _draft_for(session, org_id, body.period, start, end) \
            if org_ids else _draft_or_none(session, org_id, body.period, start, end)
        if invoice is None:
            continue
        currency, lines = rate_organization(session, spans.get(org_id, []), start, end)
        _fill(session, invoice, currency, lines)
        session.flush()
        audit.record(session, actor, "invoice.generate", "invoice", invoice.id,
                     organization_id=org_id,
                     changes={"period": body.period, "lines": len(invoice.lines),
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
