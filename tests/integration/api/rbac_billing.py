"""RBAC expectations for billing: org-<s> sells shop-<s>:offer-<s> (plan p1) and has an
invoice; "own" admins are both its provider's and its organization's admins."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from ocx.domain.billing.models import Invoice, Outage
from ocx.domain.billing.states import InvoiceKind, InvoiceState
from ocx.domain.marketplace.models import Offering, Plan
from ocx.runtime import Runtime
from tests.integration.api.rbac_market import _shop
from tests.support.rbac import Case, everyone, only
from tests.support.world import World

START, END = datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC)


def _priced(runtime: Runtime, world: World, s: str) -> dict[str, str]:
    values = _shop(runtime, world, s)
    with runtime.sessions.begin() as session:
        offering = session.query(Offering).filter_by(name=f"offer-{s}").one()
        plan = Plan(offering_id=offering.id, name="p1")
        session.add(plan)
        session.flush()
        outage = Outage(offering_id=offering.id, starts_at=START, ends_at=END)
        session.add(outage)
        session.flush()
        values |= {"plan": "p1", "outage": str(outage.id)}
    return values


def _invoice(runtime: Runtime, world: World, s: str,
             state: InvoiceState = InvoiceState.DRAFT) -> dict[str, str]:
    with runtime.sessions.begin() as session:
        org_id = uuid.UUID(world.org_ids[s])
        invoice = Invoice(key=f"invoice:{org_id}:2026-09", organization_id=org_id,
                          kind=InvoiceKind.INVOICE, state=state, period="2026-09",
                          period_start=START, period_end=END, currency="USD",
                          subtotal=Decimal(0), credits_total=Decimal(0), total=Decimal(0))
        session.add(invoice)
        session.flush()
        return {"invoice": str(invoice.id)}


def _final(runtime: Runtime, world: World, s: str) -> dict[str, str]:
    return _invoice(runtime, world, s, InvoiceState.FINAL)


PB = "/price-book/{offering}/plans/{plan}"
INV = "/invoices/{invoice}"

BILLING_CASES: dict[str, Case] = {
    "price_book.read": Case("GET", "/price-book/{offering}", everyone, setup=_priced),
    "price_book.update/rules": Case("PUT", PB + "/rules", only("admin"), setup=_priced,
                                    body=lambda w, s: {}),
    "price_book.update/rate": Case(
        "POST", PB + "/rates", only("admin"), setup=_priced,
        body=lambda w, s: {"component": "cores", "unit": "core-hour", "unit_price": "0.01",
                           "valid_from": "2027-01-01T00:00:00Z"}),
    "price_book.update/outage": Case(
        "POST", "/price-book/outages", only("admin"), setup=_priced,
        body=lambda w, s: {"offering": f"shop-{s}:offer-{s}", "reason": "maintenance",
                           "starts_at": "2027-01-01T00:00:00Z",
                           "ends_at": "2027-01-02T00:00:00Z"}),
    "price_book.update/outage-delete": Case("DELETE", "/price-book/outages/{outage}",
                                            only("admin"), setup=_priced),
    "credit.grant": Case("POST", "/credits", only(),
                         body=lambda w, s: {"organization": f"org-{s}", "name": "new-pi",
                                            "amount": "100",
                                            "valid_from": "2026-01-01T00:00:00Z"}),
    "credit.list": Case("GET", "/credits", everyone, sided=False),
    "invoice.generate": Case("POST", "/invoices", only(),
                             body=lambda w, s: {"period": "2026-10",
                                                "organization": f"org-{s}"}),
    "invoice.list": Case("GET", "/invoices", everyone, sided=False),
    "invoice.read": Case("GET", INV, only("admin"), setup=_invoice),
    "invoice.read/export": Case("GET", INV + "/export", only("admin"), setup=_invoice),
    "invoice.summary": Case("GET", INV + "/projects/{project}", only("admin", "pi"),
                            setup=_invoice),
    "invoice.summary/export": Case("GET", INV + "/projects/{project}/export",
                                   only("admin", "pi"), setup=_invoice),
    "invoice.finalize": Case("POST", INV + "/finalize", only(), setup=_invoice),
    "invoice.correct": Case("POST", INV + "/credit-notes", only(), setup=_final,
                            body=lambda w, s: {"reason": "goodwill", "lines": [
                                {"project": w.project_ids[s], "description": "sorry",
                                 "amount": "1.00"}]}),
    "report.showback": Case("GET", "/reports/showback?period=2026-10", only("admin"),
                            sided=False),
}
