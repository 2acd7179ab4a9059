"""An invoice as PDF (WeasyPrint): one page per project, from the project summaries."""

from __future__ import annotations

import uuid
from decimal import Decimal

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy.orm import Session

from ocx.domain.actor import Actor
from ocx.domain.billing import invoices
from ocx.domain.billing.schemas import ProjectSummary
from ocx.domain.billing.summary import project_summary
from ocx.domain.identity.models import Project

# Section titles in page order; anything else summary.py groups under "other".
SECTION_TITLES = {"servers": "Compute (per VM)", "volumes": "Volumes",
                  "floating_ips": "Floating IPs", "object_storage": "Object storage",
                  "allocations": "Quota charges and fees",
                  "other": "Other usage"}

_env = Environment(loader=PackageLoader("ocx.domain.billing", "templates"),
                   autoescape=select_autoescape(["html"]), trim_blocks=True,
                   lstrip_blocks=True)


def _quantity(value: Decimal) -> str:
    """A quantity for display: six decimals at most, no trailing zeros."""
    text = f"{value.quantize(Decimal('0.000001')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):,}"


_env.filters["quantity"] = _quantity
_env.filters["money"] = _money


def render_html(org: str, pages: list[ProjectSummary]) -> str:
    """The HTML of the invoice: one ``<section class="page">`` per project summary."""
    return _env.get_template("invoice.html").render(
        org=org, pages=pages, titles=SECTION_TITLES)


def html_to_pdf(html: str) -> bytes:
    """Render HTML to PDF bytes (imports WeasyPrint, which needs Pango, only here)."""
    from weasyprint import HTML  # native libraries (Pango): load on use

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


def export_pdf(session: Session, actor: Actor, invoice_id: uuid.UUID) -> bytes:
    """The invoice as PDF, one page per project with usage (whoever may read it)."""
    invoice = invoices.get(session, actor, invoice_id)
    ids = {line.project_id for line in invoice.lines}
    projects = sorted((p for p in (session.get(Project, i) for i in ids) if p),
                      key=lambda p: p.name)
    pages = [project_summary(session, actor, invoice.id, str(p.id)) for p in projects]
    return html_to_pdf(render_html(invoices.organization_name(session, invoice), pages))


def project_pdf(session: Session, actor: Actor, invoice_id: uuid.UUID,
                project_ref: str) -> bytes:
    """One project's page of an invoice as a one-page PDF (whoever may read that page)."""
    page = project_summary(session, actor, invoice_id, project_ref)
    return html_to_pdf(render_html(page.organization, [page]))
