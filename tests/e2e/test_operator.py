"""An operator closes last month in a real browser: generates the invoices, reviews them,
finalizes them after a confirmation, and finds the finalize in the audit log."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import BrowserContext, expect

from ocx.domain.actor import SYSTEM
from ocx.domain.billing import pricebook
from ocx.domain.billing.schemas import RateSet
from ocx.domain.marketplace import service as marketplace
from ocx.domain.marketplace.schemas import OfferingCreate, PlanCreate, ProviderCreate
from ocx.domain.metering.ingest import Owner, ingest
from ocx.drivers.usage.base import UsageEvent
from ocx.runtime import Runtime
from tests.e2e.conftest import LiveServer, open_signed_in

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple"
COMPONENTS = [{"name": "cores", "unit": "core", "max": 64, "default": 4},
              {"name": "ram_mib", "unit": "MiB", "max": 262144, "default": 8192}]


def last_month() -> tuple[str, datetime]:
    """Last month (UTC) as YYYY-MM, and its first instant."""
    first_of_this = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0,
                                              microsecond=0)
    start = (first_of_this - timedelta(days=1)).replace(day=1)
    return start.strftime("%Y-%m"), start


def seed_priced_usage(runtime: Runtime, project_id: str, start: datetime) -> None:
    """org-b sells cloudb:compute at 0.01 per SU-hour; org-a's project ran a 1-SU server
    for the first ten days of the month (240 SU-hours: 2.40 USD)."""
    with runtime.sessions.begin() as session:
        provider = marketplace.create_provider(
            session, SYSTEM, ProviderCreate(organization="org-b", name="cloudb"))
        offering = marketplace.create_offering(
            session, SYSTEM, runtime.drivers, runtime.sealer, OfferingCreate.model_validate({
                "provider": "cloudb", "name": "compute", "kind": "openstack",
                "driver": "fake", "driver_settings": {"cloud": f"e2e-{uuid.uuid4().hex}"},
                "components": COMPONENTS}))
        marketplace.create_plan(session, SYSTEM, "cloudb:compute", PlanCreate(name="standard"))
        pricebook.set_rate(session, SYSTEM, "cloudb:compute", "standard", RateSet(
            component="cpu_su", unit_price=Decimal("0.01"), valid_from=start - timedelta(
                days=365)))
        owner = Owner(project_id=uuid.UUID(project_id), allocation_id=None,
                      provider_id=provider.id, offering_id=offering.id)
        server = {"flavor": "m1.small", "vcpus": 1, "ram_mib": 2048, "gpus": 0,
                  "gpu_type": None, "state": "active"}
        ingest(session, provider.id, {"tenant-a": owner}, [
            UsageEvent("e2e:srv:create", "tenant-a", "server", "srv-1", start, server),
            UsageEvent("e2e:srv:delete", "tenant-a", "server", "srv-1",
                       start + timedelta(days=10), None)])


def test_an_operator_closes_a_month(live_server: LiveServer, browser: BrowserContext,
                                    artifacts: Path) -> None:
    period, start = last_month()
    seed_priced_usage(live_server.runtime, live_server.world.project_ids["a"], start)
    operator = live_server.world["operator"]
    assert httpx.patch(f"{live_server.url}/api/v1/users/me", headers=operator.headers,
                       json={"password": PASSWORD}).status_code == 200
    page, problems = open_signed_in(browser, live_server.url, operator.email, PASSWORD)
    page.get_by_role("navigation", name="main").get_by_role("link", name="Operator").click()
    expect(page).to_have_url(live_server.url + "/operator")
    expect(page.get_by_role("rowheader", name="org-a")).to_be_visible()
    page.screenshot(path=artifacts / "e2e-operator-overview.png", full_page=True)

    page.get_by_role("navigation", name="operator").get_by_role(
        "link", name="Price book").click()
    expect(page.get_by_role("heading", name="cloudb:compute: rates")).to_be_visible()
    expect(page.get_by_role("cell", name="0.010000")).to_be_visible()
    page.screenshot(path=artifacts / "e2e-operator-price-book.png", full_page=True)

    page.get_by_role("link", name="Month close").first.click()
    page.get_by_label("Month (YYYY-MM)").fill(period)
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text(f"No invoice for {period} yet.")).to_be_visible()
    page.get_by_role("button", name="Generate draft invoices").click()
    expect(page.get_by_role("status")).to_have_text(f"Generated 1 draft invoice for {period}.")
    org_a = page.get_by_role("row", name=re.compile("^org-a"))
    expect(org_a).to_contain_text("draft")
    expect(org_a).to_contain_text("2.40 USD")
    expect(org_a.get_by_role("link", name="Invoice of org-a")).to_have_attribute(
        "href", re.compile(r"^/invoices/[0-9a-f-]{36}$"))

    page.get_by_role("link", name="Review and finalize…").click()
    expect(page.get_by_role("heading", name="Finalize 1 draft invoice?")).to_be_visible()
    page.get_by_role("button", name="Finalize 1 invoice").click()
    expect(page.get_by_role("status")).to_have_text(f"Finalized 1 invoice for {period}.")
    expect(page.get_by_role("row", name=re.compile("^org-a"))).to_contain_text("final")
    expect(page.get_by_role("link", name="Review and finalize…")).to_have_count(0)
    page.screenshot(path=artifacts / "e2e-operator-month-close.png", full_page=True)

    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("Action").fill("invoice.finalize")
    page.get_by_label("Actor").fill("operator@")
    page.get_by_role("button", name="Search").click()
    finalized = page.get_by_role("row", name=re.compile("invoice.finalize"))
    expect(finalized).to_have_count(1)
    expect(finalized).to_contain_text(operator.email)
    expect(finalized).to_contain_text(period)
    page.screenshot(path=artifacts / "e2e-operator.png", full_page=True)
    assert problems == []
