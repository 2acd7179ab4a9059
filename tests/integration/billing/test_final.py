"""Final invoices never change, even past the service; rating is repeatable."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from ocx.domain.billing import invoices
from ocx.domain.billing.errors import InvoiceFinal
from ocx.domain.billing.models import Invoice, InvoiceLine
from ocx.domain.billing.rating import to_places
from ocx.domain.metering.models import UsageSpan
from ocx.runtime import Runtime
from tests.integration.billing.support import API, add_span, at, ok
from tests.support.world import World

pytestmark = pytest.mark.billing


def _final(client: TestClient, world: World) -> str:
    op = world["operator"].headers
    made = ok(client.post(f"{API}/invoices", headers=op,
                          json={"period": "2026-10", "organization": "org-a"}))
    ok(client.post(f"{API}/invoices/{made[0]['id']}/finalize", headers=op))
    return str(made[0]["id"])


@pytest.mark.parametrize("change", ["line amount", "total", "delete line", "add line",
                                    "delete invoice", "back to draft"])
def test_the_database_layer_refuses_changes_to_a_final_invoice(
        client: TestClient, world: World, runtime: Runtime, october: dict[str, Any],
        change: str) -> None:
    invoice_id = uuid.UUID(_final(client, world))
    with pytest.raises(InvoiceFinal), runtime.sessions.begin() as session:
        invoice = session.get(Invoice, invoice_id)
        assert invoice is not None
        if change == "line amount":
            invoice.lines[0].amount += Decimal("0.01")
        elif change == "total":
            invoice.total = Decimal(0)
        elif change == "delete line":
            session.delete(invoice.lines[0])
        elif change == "add line":
            line = invoice.lines[0]
            invoice.lines.append(InvoiceLine(
                position=99, project_id=line.project_id, resource_kind="x", resource_id="x",
                meter="x", component="x", quantity=1, unit="x", unit_price=1, amount=1))
        elif change == "delete invoice":
            session.delete(invoice)
        else:
            invoice.state = invoice.state.DRAFT
    with runtime.sessions() as session:
        assert session.get(Invoice, invoice_id).state.value == "final"  # type: ignore[union-attr]


def _content(runtime: Runtime, invoice_id: uuid.UUID) -> list[tuple[Any, ...]]:
    with runtime.sessions() as session:
        lines = session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id)
                                .order_by(InvoiceLine.position))
        return [(li.project_id, li.resource_id, li.component, li.quantity, li.unit_price,
                 li.amount, li.rate_id) for li in lines]


def test_rerating_a_finished_month_gives_the_same_invoice(
        client: TestClient, world: World, runtime: Runtime, october: dict[str, Any]) -> None:
    invoice_id = uuid.UUID(_final(client, world))
    with runtime.sessions() as session:
        invoice = session.get(Invoice, invoice_id)
        assert invoice is not None
        spans = invoices.load_spans(session, {invoice.organization_id}, invoice.period_start,
                                    invoice.period_end)[invoice.organization_id]
        currency, lines = invoices.rate_organization(session, spans, invoice.period_start,
                                                     invoice.period_end)
        again = [(uuid.UUID(li.key.project_id), li.key.resource_id, li.key.component,
                  to_places(li.quantity), li.key.unit_price, li.amount,
                  uuid.UUID(li.key.rate_id or "")) for li in lines]
    assert currency == "USD" and again == _content(runtime, invoice_id)


def test_the_order_spans_were_recorded_in_does_not_matter(
        client: TestClient, world: World, runtime: Runtime, october: dict[str, Any]) -> None:
    op = world["operator"].headers
    body = {"period": "2026-10", "organization": "org-a"}
    first = ok(client.post(f"{API}/invoices", headers=op, json=body))[0]
    before = _content(runtime, uuid.UUID(first["id"]))
    with runtime.sessions.begin() as session:
        spans = list(session.scalars(select(UsageSpan)))
        copies = [{c.name: getattr(s, c.name) for c in UsageSpan.__table__.columns
                   if c.name != "id"} for s in spans]
        session.execute(delete(UsageSpan))
    with runtime.sessions.begin() as session:
        for row in reversed(copies):  # the other way round, with new ids
            session.add(UsageSpan(**row))
    again = ok(client.post(f"{API}/invoices", headers=op, json=body))[0]
    assert again["id"] == first["id"] and again["total"] == first["total"]
    assert _content(runtime, uuid.UUID(first["id"])) == before


def test_usage_without_a_price_is_refused_not_free(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any]) -> None:
    add_span(runtime, market, world.project_ids["a"], "network.floating_ip", "f9",
             at(1, month=1), at(2, month=1), address="192.0.2.9")
    with runtime.sessions.begin() as session:  # now of a meter the plan has no rule for
        span = session.scalar(select(UsageSpan).where(UsageSpan.resource_id == "f9"))
        assert span is not None
        span.stream.meter = "dns.zone"
    refused = client.post(f"{API}/invoices", headers=world["operator"].headers,
                          json={"period": "2026-01", "organization": "org-a"})
    assert refused.status_code == 409
    assert refused.json()["error"]["type"] == "unpriced_usage"
    assert "dns.zone" in refused.json()["error"]["message"]
