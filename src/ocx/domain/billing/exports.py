"""Invoice exports: plain CSV, and FOCUS 1.x columns for FinOps tools."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from decimal import Decimal

from sqlalchemy.orm import Session

from ocx.domain.actor import Actor
from ocx.domain.billing import invoices
from ocx.domain.billing.commitments import RESOURCE_KIND
from ocx.domain.billing.models import Invoice, InvoiceLine
from ocx.domain.billing.states import ExportFormat
from ocx.domain.billing.summary import project_on_invoice
from ocx.domain.identity.models import Project
from ocx.errors import InvalidInput

CSV_COLUMNS = ("invoice_id", "period", "organization", "project", "resource_kind",
               "resource_id", "meter", "component", "quantity", "unit", "unit_price",
               "currency", "amount", "rate_id", "span_count")
# The FOCUS 1.x columns OCX can fill (https://focus.finops.org); others are left out.
FOCUS_COLUMNS = ("BillingAccountId", "BillingAccountName", "BillingPeriodStart",
                 "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd", "ChargeCategory",
                 "ChargeDescription", "BilledCost", "EffectiveCost", "ListCost",
                 "ContractedCost", "BillingCurrency", "ConsumedQuantity", "ConsumedUnit",
                 "PricingQuantity", "PricingUnit", "ListUnitPrice", "ContractedUnitPrice",
                 "ProviderName", "PublisherName", "InvoiceIssuerName", "ResourceId",
                 "ResourceType", "ServiceCategory", "ServiceName", "SkuId", "SkuPriceId",
                 "SubAccountId", "SubAccountName")


def _csv(header: tuple[str, ...], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def _csv_row(invoice: Invoice, org: str, projects: dict[str, str], line: InvoiceLine
             ) -> list[str]:
    return [str(invoice.id), invoice.period, org, projects[str(line.project_id)],
            line.resource_kind, line.resource_id, line.meter, line.component,
            str(line.quantity), line.unit, str(line.unit_price), invoice.currency,
            _money(line.amount), str(line.rate_id or ""), str(len(line.span_ids))]


def _focus_row(invoice: Invoice, org: str, projects: dict[str, str], line: InvoiceLine
               ) -> list[str]:
    category = "Credit" if line.meter == "correction" else (
        "Purchase" if line.resource_kind == RESOURCE_KIND else "Usage")  # quota, fees
    cost = _money(line.amount)
    start, end = invoice.period_start.isoformat(), invoice.period_end.isoformat()
    return [str(invoice.organization_id), org, start, end, start, end, category,
            line.description, cost, cost, cost, cost, invoice.currency, str(line.quantity),
            line.unit, str(line.quantity), line.unit, str(line.unit_price),
            str(line.unit_price), str(line.provider_id or "OCX"), str(line.provider_id or "OCX"),
            "OCX", line.resource_id, line.resource_kind, line.meter.split(".")[0],
            str(line.offering_id or ""), line.component, str(line.rate_id or ""),
            str(line.project_id), projects[str(line.project_id)]]


def export(session: Session, actor: Actor, invoice_id: uuid.UUID, fmt: ExportFormat) -> str:
    """The invoice's lines as CSV text in ``fmt`` (whoever may read the invoice); PDF is
    ``ocx.domain.billing.pdf``."""
    _text_only(fmt)
    invoice = invoices.get(session, actor, invoice_id)
    return _lines_text(session, invoice, invoice.lines, fmt)


def project_export(session: Session, actor: Actor, invoice_id: uuid.UUID, project_ref: str,
                   fmt: ExportFormat) -> str:
    """One project's lines of an invoice as CSV text in ``fmt``: for whoever may read
    that project's page (operators, the organization's admins, the project's PI)."""
    _text_only(fmt)
    invoice, project = project_on_invoice(session, actor, invoice_id, project_ref)
    return _lines_text(session, invoice,
                       [line for line in invoice.lines if line.project_id == project.id], fmt)


def _text_only(fmt: ExportFormat) -> None:
    if fmt is ExportFormat.PDF:
        raise InvalidInput("PDF is not a text export: use ocx.domain.billing.pdf")


def _lines_text(session: Session, invoice: Invoice, lines: list[InvoiceLine],
                fmt: ExportFormat) -> str:
    org = invoices.organization_name(session, invoice)
    ids = {line.project_id for line in lines}
    projects = {str(p.id): p.name for p in
                (session.get(Project, project_id) for project_id in ids) if p}
    row: Callable[[Invoice, str, dict[str, str], InvoiceLine], list[str]] = (
        _csv_row if fmt is ExportFormat.CSV else _focus_row)
    header = CSV_COLUMNS if fmt is ExportFormat.CSV else FOCUS_COLUMNS
    return _csv(header, [row(invoice, org, projects, line) for line in lines])
