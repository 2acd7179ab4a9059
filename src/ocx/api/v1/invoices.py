"""Invoices (one per organization per month), their project pages, exports, and showback."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from ocx.api.deps import ActorDep, PageDep, SessionDep, declares
from ocx.api.pages import PageOut, page_out
from ocx.domain.billing import exports, invoices, pdf, reports, schemas
from ocx.domain.billing.states import ExportFormat, InvoiceState
from ocx.domain.billing.summary import project_summary
from ocx.domain.policy import Action

router = APIRouter(prefix="/invoices", tags=["billing"])
reports_router = APIRouter(prefix="/reports", tags=["billing"])
ProjectRef = Annotated[str, Path(max_length=130, description="project id or ORG:NAME")]
PeriodQuery = Annotated[str, Query(pattern=r"^(19|20)\d{2}-(0[1-9]|1[0-2])$",
                                   description="a month, YYYY-MM")]


@router.post("", response_model=list[schemas.InvoicePublic],
             **declares(Action.INVOICE_GENERATE))
def generate_invoices(body: schemas.InvoiceGenerate, actor: ActorDep,
                      session: SessionDep) -> list[schemas.InvoicePublic]:
    """Rate a month into draft invoices (a draft made again is replaced) (operators)."""
    return [schemas.InvoicePublic.model_validate(i)
            for i in invoices.generate(session, actor, body)]


@router.get("", response_model=PageOut[schemas.InvoicePublic], **declares(Action.INVOICE_LIST))
def list_invoices(
    actor: ActorDep, session: SessionDep, page: PageDep,
    organization: Annotated[str | None, Query(max_length=100)] = None,
    period: Annotated[str | None, Query(pattern=r"^(19|20)\d{2}-(0[1-9]|1[0-2])$")] = None,
    state: InvoiceState | None = None,
) -> PageOut[schemas.InvoicePublic]:
    """Invoices of the organizations you administer (operators: all)."""
    found = invoices.list_invoices(session, actor, cursor=page.cursor, limit=page.limit,
                                   organization=organization, period=period, state=state)
    return page_out(found, schemas.InvoicePublic.model_validate)


@router.get("/{invoice}", response_model=schemas.InvoiceDetail,
            **declares(Action.INVOICE_READ))
def show_invoice(invoice: uuid.UUID, actor: ActorDep,
                 session: SessionDep) -> schemas.InvoiceDetail:
    """One invoice with its lines and the credits it used."""
    return schemas.InvoiceDetail.model_validate(invoices.get(session, actor, invoice))


@router.post("/{invoice}/finalize", response_model=schemas.InvoicePublic,
             **declares(Action.INVOICE_FINALIZE))
def finalize_invoice(invoice: uuid.UUID, actor: ActorDep,
                     session: SessionDep) -> schemas.InvoicePublic:
    """Make a draft final once its month is over; it never changes again (operators)."""
    return schemas.InvoicePublic.model_validate(invoices.finalize(session, actor, invoice))


@router.post("/{invoice}/credit-notes", status_code=201,
             response_model=schemas.InvoiceDetail, **declares(Action.INVOICE_CORRECT))
def create_credit_note(invoice: uuid.UUID, body: schemas.CreditNoteCreate,
                       actor: ActorDep, session: SessionDep) -> schemas.InvoiceDetail:
    """Correct a final invoice with a credit note, a draft to finalize (operators)."""
    return schemas.InvoiceDetail.model_validate(
        invoices.credit_note(session, actor, invoice, body))


@router.get("/{invoice}/projects/{project}", response_model=schemas.ProjectSummary,
            **declares(Action.INVOICE_SUMMARY))
def show_project_summary(invoice: uuid.UUID, project: ProjectRef, actor: ActorDep,
                         session: SessionDep) -> schemas.ProjectSummary:
    """One project's page of an invoice (its organization's admins, its PI)."""
    return project_summary(session, actor, invoice, project)


def _exported(description: str) -> dict[int | str, dict[str, Any]]:
    """An export's OpenAPI answers: errors stay JSON like everywhere else, only the 200
    answer is text/csv (or PDF)."""
    return {200: {"description": description,
                  "content": {"text/csv": {"schema": {"type": "string"}},
                              "application/pdf": {"schema": {
                                  "type": "string", "format": "binary"}}}}}


@router.get("/{invoice}/export", response_class=Response,
            responses=_exported("the lines, one a row, with a header row; "
                                "or (format=pdf) one page per project"),
            **declares(Action.INVOICE_READ))
def export_invoice(invoice: uuid.UUID, actor: ActorDep, session: SessionDep,
                   format: ExportFormat = ExportFormat.CSV) -> Response:
    """The invoice's lines as CSV, as FOCUS 1.x columns (``format=focus``), or as a PDF
    with one page per project (``format=pdf``)."""
    if format is ExportFormat.PDF:
        return Response(pdf.export_pdf(session, actor, invoice),
                        media_type="application/pdf")
    text = exports.export(session, actor, invoice, format)
    return Response(text, media_type="text/csv; charset=utf-8")


@router.get("/{invoice}/projects/{project}/export", response_class=Response,
            responses=_exported("one project's lines, one a row, with a header row; "
                                "or (format=pdf) its page"),
            **declares(Action.INVOICE_SUMMARY))
def export_project_page(invoice: uuid.UUID, project: ProjectRef, actor: ActorDep,
                        session: SessionDep, format: ExportFormat = ExportFormat.CSV
                        ) -> Response:
    """One project's part of an invoice (its organization's admins and its PI): its lines
    as CSV or FOCUS 1.x columns, or its one-page summary as PDF (``format=pdf``)."""
    if format is ExportFormat.PDF:
        return Response(pdf.project_pdf(session, actor, invoice, project),
                        media_type="application/pdf")
    text = exports.project_export(session, actor, invoice, project, format)
    return Response(text, media_type="text/csv; charset=utf-8")


@reports_router.get("/showback", response_model=list[schemas.ShowbackRow],
                    **declares(Action.REPORT_SHOWBACK))
def showback(actor: ActorDep, session: SessionDep, period: PeriodQuery,
             by: schemas.ShowbackBy = schemas.ShowbackBy.PROJECT) -> list[schemas.ShowbackRow]:
    """A month's invoiced usage by project, user, organization or provider."""
    return reports.showback(session, actor, period, by)
