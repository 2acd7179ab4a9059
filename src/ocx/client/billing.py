"""Client calls for billing: the price book, credits, invoices and reports (mixed into
``OcxClient``)."""

from __future__ import annotations

from typing import Any

from pydantic import RootModel

from ocx.client.models import Page
from ocx.client.transport import Transport as _Transport
from ocx.domain.billing.budget_schemas import BudgetPublic
from ocx.domain.billing.schemas import (
    CreditPublic,
    InvoiceDetail,
    InvoicePublic,
    OutagePublic,
    PlanBookPublic,
    PriceBookPublic,
    ProjectSummary,
    ShowbackRow,
)
from ocx.domain.marketplace.schemas import RatePublic


class _Invoices(RootModel[list[InvoicePublic]]):
    """A bare JSON list of invoices."""


class _Showback(RootModel[list[ShowbackRow]]):
    """A bare JSON list of showback rows."""


class BillingCalls:
    """The price book, credits, invoices and showback."""

    def get_price_book(self: _Transport, offering: str) -> PriceBookPublic:
        """An offering's plans, rates, rating rules and outages."""
        return self._read(PriceBookPublic, "GET", f"price-book/{offering}")

    def set_rules(self: _Transport, offering: str, plan: str,
                  rules: dict[str, Any]) -> PlanBookPublic:
        """Replace a plan's rating rules."""
        return self._read(PlanBookPublic, "PUT", f"price-book/{offering}/plans/{plan}/rules",
                          rules)

    def set_rate(self: _Transport, offering: str, plan: str,
                 body: dict[str, Any]) -> RatePublic:
        """Price a component from a time on."""
        return self._read(RatePublic, "POST", f"price-book/{offering}/plans/{plan}/rates",
                          body)

    def add_outage(self: _Transport, body: dict[str, Any]) -> OutagePublic:
        """Record an outage of a provider or an offering."""
        return self._read(OutagePublic, "POST", "price-book/outages", body)

    def delete_outage(self: _Transport, outage: str) -> None:
        """Remove an outage."""
        self._send("DELETE", f"price-book/outages/{outage}")

    def grant_credit(self: _Transport, body: dict[str, Any]) -> CreditPublic:
        """Give an organization or project a credit or subsidy (operators)."""
        return self._read(CreditPublic, "POST", "credits", body)

    def list_credits(self: _Transport, *, organization: str | None = None,
                     cursor: str | None = None, limit: int | None = None
                     ) -> Page[CreditPublic]:
        """One page of credits."""
        return self._page(Page[CreditPublic], "credits", cursor, limit,
                          organization=organization)

    def generate_invoices(self: _Transport, period: str,
                          organization: str | None = None) -> list[InvoicePublic]:
        """Rate a month into draft invoices (operators)."""
        body = {"period": period} | ({"organization": organization} if organization else {})
        return self._read(_Invoices, "POST", "invoices", body).root

    def list_invoices(self: _Transport, *, organization: str | None = None,
                      period: str | None = None, state: str | None = None,
                      cursor: str | None = None, limit: int | None = None
                      ) -> Page[InvoicePublic]:
        """One page of invoices."""
        return self._page(Page[InvoicePublic], "invoices", cursor, limit,
                          organization=organization, period=period, state=state)

    def get_invoice(self: _Transport, invoice: str) -> InvoiceDetail:
        """One invoice with its lines."""
        return self._read(InvoiceDetail, "GET", f"invoices/{invoice}")

    def finalize_invoice(self: _Transport, invoice: str) -> InvoicePublic:
        """Make a draft final (operators)."""
        return self._read(InvoicePublic, "POST", f"invoices/{invoice}/finalize")

    def credit_note(self: _Transport, invoice: str, body: dict[str, Any]) -> InvoiceDetail:
        """Correct a final invoice with a credit note (operators)."""
        return self._read(InvoiceDetail, "POST", f"invoices/{invoice}/credit-notes", body)

    def project_summary(self: _Transport, invoice: str, project: str) -> ProjectSummary:
        """One project's page of an invoice."""
        return self._read(ProjectSummary, "GET", f"invoices/{invoice}/projects/{project}")

    def export_invoice(self: _Transport, invoice: str, fmt: str = "csv",
                       project: str | None = None) -> str:
        """The invoice's lines (only ``project``'s, if given) as CSV text (``csv`` or
        ``focus`` columns)."""
        return self._send("GET", _export_path(invoice, project), params={"format": fmt}).text

    def export_invoice_pdf(self: _Transport, invoice: str, project: str | None = None
                           ) -> bytes:
        """The invoice as PDF: one page per project (only ``project``'s, if given)."""
        return self._send("GET", _export_path(invoice, project),
                          params={"format": "pdf"}).content

    def showback(self: _Transport, period: str, by: str = "project") -> list[ShowbackRow]:
        """A month's invoiced usage grouped by project, user, org or provider."""
        return self._read(_Showback, "GET", "reports/showback",
                          params={"period": period, "by": by}).root

    def get_budget(self: _Transport, project: str) -> BudgetPublic:
        """A project's budget and this month's spending."""
        return self._read(BudgetPublic, "GET", f"projects/{project}/budget")

    def set_budget(self: _Transport, project: str, body: dict[str, Any]) -> BudgetPublic:
        """Set a project's monthly budget and alert thresholds."""
        return self._read(BudgetPublic, "PUT", f"projects/{project}/budget", body)


def _export_path(invoice: str, project: str | None) -> str:
    """The export of a whole invoice, or of one project's part of it."""
    return f"invoices/{invoice}/export" if project is None \
        else f"invoices/{invoice}/projects/{project}/export"
