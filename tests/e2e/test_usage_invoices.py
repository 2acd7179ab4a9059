"""A PI looks at their project's usage plots and at its page of last month's invoice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import cast

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import BrowserContext, expect

from ocx.domain.actor import SYSTEM
from ocx.domain.billing import invoices
from ocx.domain.billing.schemas import InvoiceGenerate
from ocx.persistence.base import utcnow
from tests.e2e.conftest import LiveServer, open_signed_in
from tests.integration.billing.support import add_span, priced_market, server

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple"


def last_month(today: date) -> date:
    """The first day of the month before ``today``'s."""
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def seed(live: LiveServer, first: date) -> str:
    """Price book, last month's usage of proj-a (a 4-vCPU server on its first two days, a
    100 GiB volume on its second) and org-a's draft invoice for it; returns its total."""
    world, runtime = live.world, live.runtime
    with httpx.Client(base_url=live.url) as api:
        # priced_market only posts to the API, which any HTTP client can do
        market = priced_market(cast(TestClient, api), world)
    project = world.project_ids["a"]
    day = datetime(first.year, first.month, first.day, tzinfo=UTC)
    server(runtime, market, project, "s1", day, day + timedelta(days=2), vcpus=4,
           ram_mib=8192)
    add_span(runtime, market, project, "volume.storage", "v1", day + timedelta(days=1),
             day + timedelta(days=2), size_gib=100)
    with runtime.sessions.begin() as session:
        made = invoices.generate(session, SYSTEM, InvoiceGenerate(
            period=first.strftime("%Y-%m"), organization="org-a"))
        return f"{made[0].total:,.2f} USD"


def test_pi_views_usage_plots_and_an_invoice(live_server: LiveServer, browser: BrowserContext,
                                            artifacts: Path) -> None:
    first = last_month(utcnow().date())
    total = seed(live_server, first)
    pi = live_server.world["pi_a"]
    answer = httpx.patch(f"{live_server.url}/api/v1/users/me", headers=pi.headers,
                         json={"password": PASSWORD})
    assert answer.status_code == 200, answer.text
    # problems: CSP refusals and script errors, if any
    page, problems = open_signed_in(browser, live_server.url, pi.email, PASSWORD)

    project = live_server.world.project_ids["a"]
    page.goto(f"{live_server.url}/projects/{project}/usage")
    expect(page.get_by_role("heading", name="Usage of org-a/proj-a")).to_be_visible()
    expect(page.locator(".usage-plot canvas")).to_have_count(2)  # uPlot drew both meters
    row = page.get_by_role("row", name=first.isoformat())
    expect(row.get_by_role("cell")).to_have_text(["24.00", "0.00"])
    second = page.get_by_role("row", name=(first + timedelta(days=1)).isoformat())
    expect(second.get_by_role("cell")).to_have_text(["24.00", "2,400.00"])
    page.screenshot(path=artifacts / "e2e-usage.png", full_page=True)

    page.get_by_role("link", name="Invoices", exact=True).click()
    expect(page).to_have_url(live_server.url + "/invoices")
    page.get_by_role("link", name=first.strftime("%Y-%m")).click()
    expect(page.get_by_role("heading", name=f"Invoice of org-a for {first:%Y-%m}")).to_be_visible()
    expect(page.get_by_role("cell", name="s1", exact=True)).to_be_visible()
    expect(page.get_by_role("row", name=f"Total {total}", exact=True)).to_be_visible()
    page.screenshot(path=artifacts / "e2e-invoice.png", full_page=True)
    assert problems == []
