"""Dashboard area: the operator's pages — organizations, the price book, month close,
the audit log and failed operations.

Operators only (``common.OperatorDep``): everyone else gets a 403 page. Every page calls
the same domain services as the API (which check the policy again); every change runs in
a savepoint, so a refused change leaves nothing half done and the form comes back with
the reason.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Response
from pydantic import ValidationError

from ocx.domain.audit import service as audit
from ocx.domain.billing import invoices, pricebook, schemas
from ocx.domain.billing.states import InvoiceKind, InvoiceState
from ocx.domain.identity import service as identity
from ocx.domain.marketplace import service as marketplace
from ocx.domain.operations import service as operations
from ocx.domain.operations.states import OperationState
from ocx.errors import InvalidInput, OcxError
from ocx.persistence.pagination import MAX_LIMIT
from ocx.persistence.pagination import Page as Found
from ocx.web.dashboard.common import OperatorDep, Page
from ocx.web.deps import require_csrf

router = APIRouter(prefix="/operator", include_in_schema=False)
PAGE_SIZE = 50
PERIOD = re.compile(r"(19|20)\d{2}-(0[1-9]|1[0-2])")
Text = Annotated[str, Form()]
Cursor = Annotated[str | None, Query(max_length=200)]
T = TypeVar("T")


def _count(found: Found[Any]) -> str:
    """How many a capped listing found: "500+" when there are more."""
    return f"{len(found.items)}+" if found.next_cursor else str(len(found.items))


def _all(fetch: Callable[[str | None], Found[T]]) -> Iterator[T]:
    """Every item of a paged listing, page after page."""
    cursor: str | None = None
    while True:
        found = fetch(cursor)
        yield from found.items
        if not (cursor := found.next_cursor):
            return


def _invalid(exc: ValidationError) -> InvalidInput:
    """A form's validation errors as one message people can read."""
    parts = [f"{'.'.join(str(p) for p in e['loc']) or 'form'}: "
             f"{str(e['msg']).removeprefix('Value error, ')}" for e in exc.errors()]
    return InvalidInput("; ".join(parts[:5]))


def _instant(value: str, field: str, *, end_of_day: bool = False) -> datetime | None:
    """A date (YYYY-MM-DD) or ISO time typed in a form, in UTC; None when empty.

    A bare date means its first instant, or with ``end_of_day`` the first of the next day.
    """
    if not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidInput(f"{field}: enter a date as YYYY-MM-DD") from exc
    if end_of_day and "T" not in value and " " not in value.strip():
        parsed += timedelta(days=1)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _checked_period(period: str) -> str:
    """``period`` if it is a YYYY-MM month. Raises InvalidInput."""
    if not PERIOD.fullmatch(period):
        raise InvalidInput(f"period: {period!r} is not a month; pick one as YYYY-MM")
    return period


def previous_month(now: datetime | None = None) -> str:
    """The month before ``now``'s (UTC), as YYYY-MM: the one usually being closed."""
    first = (now or datetime.now(UTC)).replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


# --- overview -------------------------------------------------------------------------

@dataclass(frozen=True)
class OrgRow:
    """One organization on the overview."""

    name: str
    display_name: str
    projects: int
    members: int


@router.get("")
def overview(page: OperatorDep, cursor: Cursor = None) -> Response:
    """Organizations with their sizes, and what needs the operator's attention."""
    db, actor = page.db, page.actor
    orgs = identity.list_orgs(db, actor, cursor=cursor, limit=PAGE_SIZE)
    counts = identity.count_org_contents(db, actor, [org.id for org in orgs.items])
    rows = [OrgRow(org.name, org.display_name, counts[org.id].projects,
                   counts[org.id].members) for org in orgs.items]
    failed = operations.list_operations(db, actor, cursor=None, limit=MAX_LIMIT,
                                        state=OperationState.FAILED)
    drafts = invoices.list_invoices(db, actor, cursor=None, limit=MAX_LIMIT,
                                    state=InvoiceState.DRAFT)
    return page.render("operator/overview.html", orgs=rows, next_cursor=orgs.next_cursor,
                       failed=_count(failed), drafts=_count(drafts))


# --- the price book -------------------------------------------------------------------

@dataclass
class RateForm:
    """What the "add a dated rate" form holds, as typed."""

    offering: str = ""
    plan: str = ""
    component: str = ""
    unit_price: str = ""
    valid_from: str = ""
    unit: str = ""

    def body(self) -> schemas.RateSet:
        """The rate to set. Raises InvalidInput with every mistake of the form."""
        valid_from = _instant(self.valid_from, "valid_from")
        if valid_from is None:
            raise InvalidInput("valid_from: say from which date the price applies")
        try:
            return schemas.RateSet.model_validate({
                "component": self.component.strip(), "unit_price": self.unit_price.strip(),
                "valid_from": valid_from, "unit": self.unit.strip() or None})
        except ValidationError as exc:
            raise _invalid(exc) from exc


def _price_book(page: Page, offering: str | None, form: RateForm | None = None,
                ) -> dict[str, Any]:
    """The price book page's context: every offering, and one offering's book."""
    offerings = list(_all(lambda cursor: marketplace.list_offerings(
        page.db, page.actor, cursor=cursor, limit=MAX_LIMIT)))
    choices = sorted(((str(o.id), f"{o.provider.name}:{o.name}") for o in offerings),
                     key=lambda choice: choice[1])
    ref = offering or (choices[0][0] if choices else None)
    book = pricebook.show(page.db, page.actor, ref) if ref else None
    form = form or RateForm(offering=str(book.offering_id) if book else "")
    return {"choices": choices, "book": book, "form": form,
            "closed_until": pricebook.closed_until(page.db)}


@router.get("/price-book")
def price_book(page: OperatorDep,
               offering: Annotated[str | None, Query(max_length=130)] = None) -> Response:
    """One offering's plans with their dated rates, rating rules and outages."""
    try:
        context = _price_book(page, offering)
    except OcxError as exc:
        return page.failed(exc, "operator/price_book.html", **_price_book(page, None))
    return page.render("operator/price_book.html", **context)


@router.post("/price-book/rates", dependencies=[Depends(require_csrf)])
def add_rate(page: OperatorDep, offering: Text = "", plan: Text = "", component: Text = "",
             unit_price: Text = "", valid_from: Text = "", unit: Text = "") -> Response:
    """Price a component of a plan from a date on; the rate in force then ends there."""
    form = RateForm(offering, plan, component, unit_price, valid_from, unit)
    try:
        with page.db.begin_nested():
            rate = pricebook.set_rate(page.db, page.actor, offering, plan, form.body())
    except OcxError as exc:
        try:
            context = _price_book(page, offering, form)
        except OcxError:
            context = _price_book(page, None, form)
        return page.failed(exc, "operator/price_book.html", **context)
    return page.redirect(f"/operator/price-book?{urlencode({'offering': offering})}",
                         f"{rate.component} of plan {plan} costs {rate.unit_price} per "
                         f"{rate.unit} from {rate.valid_from:%Y-%m-%d %H:%M} UTC.")


# --- month close ----------------------------------------------------------------------

@dataclass(frozen=True)
class InvoiceRow:
    """One invoice of the month being closed."""

    id: uuid.UUID
    organization: str
    kind: str
    state: str
    currency: str
    subtotal: Decimal
    credits_total: Decimal
    total: Decimal


def _month(page: Page, period: str) -> list[InvoiceRow]:
    """Every invoice and credit note of ``period``, by organization."""
    found = _all(lambda cursor: invoices.list_invoices(
        page.db, page.actor, cursor=cursor, limit=MAX_LIMIT, period=period))
    rows = [InvoiceRow(i.id, invoices.organization_name(page.db, i), i.kind.value,
                       i.state.value, i.currency, i.subtotal, i.credits_total, i.total)
            for i in found]
    return sorted(rows, key=lambda row: (row.organization, row.kind))


def _summary(rows: list[InvoiceRow]) -> dict[str, Any]:
    """Counts by state and totals by currency of a month's invoices."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[row.currency] += row.total
    return {"drafts": sum(row.state == InvoiceState.DRAFT for row in rows),
            "finals": sum(row.state == InvoiceState.FINAL for row in rows),
            "totals": sorted(totals.items())}


def _month_page(page: Page, period: str, exc: OcxError | None = None) -> Response:
    """The month-close page, with ``exc``'s message if a change was refused."""
    try:
        rows = _month(page, _checked_period(period))
    except OcxError as invalid:
        exc, rows = exc or invalid, []
    context = {"period": period, "invoices": rows, **_summary(rows)}
    if exc is not None:
        return page.failed(exc, "operator/month_close.html", **context)
    return page.render("operator/month_close.html", **context)


@router.get("/month-close")
def month_close(page: OperatorDep,
                period: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    """A month's invoices: generate the drafts, review them, finalize them."""
    return _month_page(page, period or previous_month())


@router.post("/month-close/generate", dependencies=[Depends(require_csrf)])
def generate(page: OperatorDep, period: Text = "") -> Response:
    """Rate the month into draft invoices for every organization with usage."""
    try:
        body = schemas.InvoiceGenerate(period=_checked_period(period.strip()))
        with page.db.begin_nested():
            made = invoices.generate(page.db, page.actor, body)
    except OcxError as exc:
        return _month_page(page, period, exc)
    message = (f"Generated {len(made)} draft invoice{'s' if len(made) != 1 else ''} "
               f"for {period}." if made else f"Nothing to generate for {period}: no "
               "organization has usage or an open draft that month.")
    return page.redirect(_month_url(period), message, "success" if made else "info")


def _month_url(period: str) -> str:
    return f"/operator/month-close?{urlencode({'period': period})}"


def _drafts(rows: list[InvoiceRow]) -> list[InvoiceRow]:
    """The month's draft invoices (credit notes are finalized on their own)."""
    return [row for row in rows if row.state == InvoiceState.DRAFT
            and row.kind == InvoiceKind.INVOICE]


@router.get("/month-close/finalize")
def confirm_finalize(page: OperatorDep,
                     period: Annotated[str, Query(max_length=20)] = "") -> Response:
    """The confirmation step: exactly which drafts will become final, and their totals."""
    try:
        drafts = _drafts(_month(page, _checked_period(period)))
    except OcxError as exc:
        return _month_page(page, period, exc)
    if not drafts:
        return page.redirect(_month_url(period), f"{period} has no draft invoice to "
                             "finalize; generate them first.", "info")
    return page.render("operator/finalize.html", period=period, invoices=drafts,
                       totals=_summary(drafts)["totals"])


@router.post("/month-close/finalize", dependencies=[Depends(require_csrf)])
def finalize(page: OperatorDep, period: Text = "",
             invoice: Annotated[list[str] | None, Form()] = None) -> Response:
    """Make the reviewed drafts final; they never change again (each is audited)."""
    try:
        ids = [_invoice_id(text) for text in invoice or []]
        if not ids:
            raise InvalidInput("invoice: nothing to finalize; review the drafts first")
        with page.db.begin_nested():
            done = [invoices.finalize(page.db, page.actor, invoice_id) for invoice_id in ids]
    except OcxError as exc:
        return _month_page(page, period, exc)
    return page.redirect(_month_url(period), f"Finalized {len(done)} invoice"
                         f"{'s' if len(done) != 1 else ''} for {period}.")


def _invoice_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError as exc:
        raise InvalidInput(f"invoice: {text[:40]!r} is not an invoice id") from exc


# --- the audit log --------------------------------------------------------------------

@dataclass(frozen=True)
class AuditForm:
    """The audit search as typed (every field optional)."""

    actor: str = ""
    action: str = ""
    target_type: str = ""
    target_id: str = ""
    since: str = ""
    until: str = ""

    def search(self) -> audit.AuditSearch:
        """The search's time range and text filters. Raises InvalidInput."""
        return audit.AuditSearch(
            actor=self.actor.strip() or None, target_type=self.target_type.strip() or None,
            since=_instant(self.since, "since"),
            until=_instant(self.until, "until", end_of_day=True))

    def url(self, cursor: str | None = None) -> str:
        """The address of this search's page at ``cursor`` (the first page without)."""
        fields = {key: value for key, value in asdict(self).items() if value}
        return f"/operator/audit?{urlencode(fields | ({'cursor': cursor} if cursor else {}))}"


@router.get("/audit")
def audit_log(page: OperatorDep, actor: Annotated[str, Query(max_length=320)] = "",
              action: Annotated[str, Query(max_length=100)] = "",
              target_type: Annotated[str, Query(max_length=50)] = "",
              target_id: Annotated[str, Query(max_length=64)] = "",
              since: Annotated[str, Query(max_length=40)] = "",
              until: Annotated[str, Query(max_length=40)] = "",
              cursor: Cursor = None) -> Response:
    """Search the audit trail, newest first, a page at a time."""
    form = AuditForm(actor, action, target_type, target_id, since, until)
    try:
        found = audit.list_events(page.db, page.actor, cursor=cursor, limit=PAGE_SIZE,
                                  action=action.strip() or None,
                                  target_id=target_id.strip() or None,
                                  newest_first=True, search=form.search())
    except OcxError as exc:
        return page.failed(exc, "operator/audit.html", form=form, events=[], next_url=None,
                           first_url=None)
    return page.render("operator/audit.html", form=form, events=found.items,
                       next_url=form.url(found.next_cursor) if found.next_cursor else None,
                       first_url=form.url() if cursor else None)


# --- failed operations ----------------------------------------------------------------

def _operations(page: Page, cursor: str | None) -> dict[str, Any]:
    found = operations.list_operations(page.db, page.actor, cursor=cursor, limit=PAGE_SIZE,
                                       state=OperationState.FAILED)
    return {"operations": found.items, "next_cursor": found.next_cursor}


@router.get("/operations")
def failed_operations(page: OperatorDep, cursor: Cursor = None) -> Response:
    """Operations that failed for good, with their last error and a Retry button."""
    try:
        context = _operations(page, cursor)
    except OcxError as exc:
        return page.failed(exc, "operator/operations.html", **_operations(page, None))
    return page.render("operator/operations.html", **context)


@router.post("/operations/{operation_id}/retry", dependencies=[Depends(require_csrf)])
def retry(page: OperatorDep, operation_id: uuid.UUID) -> Response:
    """Send a failed operation back to the queue with a fresh set of attempts."""
    try:
        with page.db.begin_nested():
            op = operations.retry(page.db, page.actor, operation_id)
    except OcxError as exc:
        return page.failed(exc, "operator/operations.html", **_operations(page, None))
    return page.redirect("/operator/operations", f"{op.kind} on {op.target_type} "
                         f"{op.target_id} is queued again.")
