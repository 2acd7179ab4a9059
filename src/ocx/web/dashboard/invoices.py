"""Dashboard area: invoices, their project pages, and their downloads (CSV, FOCUS, PDF).

Organization admins (and operators) see whole invoices and download them; a PI sees their
projects' pages of their organization's invoices and downloads those pages as PDF. What
is shown comes from ``billing.visibility``, ``billing.summary`` and the exports, which
check the policy.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from ocx.domain.billing import exports, pdf, visibility
from ocx.domain.billing.schemas import ProjectSummary
from ocx.domain.billing.states import ExportFormat, InvoiceState
from ocx.domain.billing.summary import project_on_invoice, project_summary
from ocx.errors import InvalidInput
from ocx.web.dashboard.common import Page, SignedInDep

router = APIRouter(include_in_schema=False)
PERIOD = re.compile(r"(19|20)\d{2}-(0[1-9]|1[0-2])")
FilterQuery = Annotated[str | None, Query(max_length=40)]
ProjectRef = Annotated[str, Path(min_length=1, max_length=130)]
SECTION_TITLES = pdf.SECTION_TITLES
DOWNLOADS = {ExportFormat.CSV: ("text/csv; charset=utf-8", "csv"),
             ExportFormat.FOCUS: ("text/csv; charset=utf-8", "focus.csv"),
             ExportFormat.PDF: ("application/pdf", "pdf")}


def parse_filters(period: str | None, state: str | None) -> tuple[str | None, InvoiceState | None]:
    """The list's filters: a YYYY-MM month and a state, each optional.

    Raises:
        InvalidInput: the period is not YYYY-MM or the state is not draft or final.
    """
    if period and not PERIOD.fullmatch(period):
        raise InvalidInput(f"period: {period!r} is not a month (YYYY-MM)")
    try:
        return period or None, InvoiceState(state) if state else None
    except ValueError:
        raise InvalidInput(f"state: {state!r} is neither draft nor final") from None


@router.get("/invoices")
def invoice_list(page: SignedInDep, period: FilterQuery = None,
                 state: FilterQuery = None) -> Response:
    """The invoices this person may see, newest month first, by month and state."""
    form: dict[str, Any] = {"period": period or "", "state": state or "",
                            "states": [s.value for s in InvoiceState], "limit": visibility.LIMIT}
    try:
        month, chosen = parse_filters(period, state)
    except InvalidInput as exc:
        return page.failed(exc, "invoices/list.html", rows=[], **form)
    rows = visibility.visible_invoices(page.db, page.actor, period=month, state=chosen)
    return page.render("invoices/list.html", rows=rows, **form)


@router.get("/invoices/{invoice_id}")
def invoice_page(page: SignedInDep, invoice_id: uuid.UUID) -> Response:
    """One invoice: totals, lines, credits and project pages (or, for a PI, their
    projects' pages), with its downloads."""
    seen = visibility.visible_invoice(page.db, page.actor, invoice_id)
    summaries = [] if seen.whole else [
        project_summary(page.db, page.actor, invoice_id, str(p.project_id))
        for p in seen.pages]
    names = {p.project_id: p.name for p in seen.pages}
    return page.render("invoices/show.html", seen=seen, summaries=summaries, names=names,
                       titles=SECTION_TITLES)


@router.get("/invoices/{invoice_id}/projects/{project_id}")
def project_page(page: SignedInDep, invoice_id: uuid.UUID, project_id: ProjectRef) -> Response:
    """One project's page of an invoice (its organization's admins, its PI)."""
    return _with_summary(page, invoice_id, project_id, lambda summary: page.render(
        "invoices/project.html", summary=summary, titles=SECTION_TITLES))


def _with_summary(page: Page, invoice_id: uuid.UUID, project_id: str,
                  answer: Callable[[ProjectSummary], Response]) -> Response:
    """``answer`` with the project's page of the invoice, if the person may see it."""
    return answer(project_summary(page.db, page.actor, invoice_id, project_id))


def _download(content: str | bytes, media_type: str, filename: str) -> Response:
    return Response(content, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@router.get("/invoices/{invoice_id}/export")
def invoice_export(page: SignedInDep, invoice_id: uuid.UUID,
                   format: Annotated[str, Query(max_length=10)] = "csv") -> Response:
    """Download the whole invoice: its lines as CSV or FOCUS, or its project pages as PDF."""
    fmt = _format(format)
    seen = visibility.visible_invoice(page.db, page.actor, invoice_id)
    content = pdf.export_pdf(page.db, page.actor, invoice_id) if fmt is ExportFormat.PDF \
        else exports.export(page.db, page.actor, invoice_id, fmt)
    media_type, suffix = DOWNLOADS[fmt]
    name = f"invoice-{seen.organization}-{seen.invoice.period}.{suffix}"
    return _download(content, media_type, name)


@router.get("/invoices/{invoice_id}/projects/{project_id}/export")
def project_export(page: SignedInDep, invoice_id: uuid.UUID, project_id: ProjectRef,
                   format: Annotated[str, Query(max_length=10)] = "pdf") -> Response:
    """Download one project's page of an invoice as PDF, or its lines as CSV or FOCUS."""
    fmt = _format(format)
    invoice, project = project_on_invoice(page.db, page.actor, invoice_id, project_id)
    content = pdf.project_pdf(page.db, page.actor, invoice_id, project_id) \
        if fmt is ExportFormat.PDF \
        else exports.project_export(page.db, page.actor, invoice_id, project_id, fmt)
    media_type, suffix = DOWNLOADS[fmt]
    name = f"invoice-{project.organization.name}-{project.name}-{invoice.period}.{suffix}"
    return _download(content, media_type, name)


def _format(text: str) -> ExportFormat:
    try:
        return ExportFormat(text)
    except ValueError:
        raise InvalidInput(f"format: {text!r} is not one of csv, focus, pdf") from None

