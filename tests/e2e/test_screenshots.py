"""Each role's main page, on the demo of `make run`, shows the demo's data: screenshots
``role-<role>.png`` under test-artifacts/ are how the dashboard is checked by eye."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from ocx.demo.seed import month_starts
from ocx.domain.actor import SYSTEM
from ocx.domain.billing import reports
from ocx.domain.identity.service import find_project
from ocx.persistence.base import utcnow
from tests.e2e.conftest import DemoServer, open_signed_in

pytestmark = pytest.mark.e2e

# What each role's main page must show of the demo, and must not (another tenant's data).
SHOWS: dict[str, tuple[str, ...]] = {
    "researcher": ("genomics-lab", "climate-models", "harbor:compute", "active", "failed"),
    "pi": ("genomics-lab", "Sequencing pipelines", "Harbor Compute|harbor:compute",
           "Harbor Object Storage|harbor:object-store", "active", "5000"),
    "provider": ("Harbor", "Harbor Compute|compute", "Harbor Object Storage|object-store",
                 "Harbor GPU Cloud|gpu", "protein-folding", "riverside"),
    "operator": ("Bayview University|bayview", "Riverside Institute of Technology|riverside",
                 "Harbor Cloud Consortium|harbor-cloud", r"Failed operations\s*1\b",
                 r"Draft invoices\s*4\b"),
}
HIDES: dict[str, tuple[str, ...]] = {"researcher": ("protein-folding",),
                                     "pi": ("protein-folding",)}


def last_months_revenue(demo: DemoServer) -> tuple[str, list[str]]:
    """The month before this one, and Harbor's revenue figures in it (as the invoices say)."""
    (month,) = [m.strftime("%Y-%m") for m in month_starts(utcnow(), 1)]
    with demo.runtime.sessions() as session:
        rows = reports.provider_revenue(session, SYSTEM, "harbor", month)
    return month, [f"{row.amount:,.2f}" for row in rows]


def check_page(page: Page, role: str, figures: tuple[str, ...] = ()) -> list[str]:
    """What the page fails to show (or shows and must not), as messages."""
    main, missing = page.locator("main"), []
    for text in (*SHOWS[role], *map(re.escape, figures)):
        try:
            expect(main).to_contain_text(re.compile(text), timeout=2000)
        except AssertionError:
            missing.append(f"{role}: {text!r} not shown")
    for text in HIDES.get(role, ()):
        if text in main.inner_text():
            missing.append(f"{role}: {text!r} shown to someone outside the project")
    return missing


def test_each_roles_main_page_shows_the_demo(demo_server: DemoServer, browser: BrowserContext,
                                              artifacts: Path) -> None:
    with demo_server.runtime.sessions() as session:
        project_id = find_project(session, "bayview:genomics-lab").id
    month, revenue = last_months_revenue(demo_server)
    assert revenue, "the demo's invoices charge nothing for Harbor's offerings"
    # The provider's main page opens on the latest month with revenue: last month's (this
    # month has no invoice yet).
    pages = {"researcher": "/", "pi": f"/projects/{project_id}",
             "provider": "/provider", "operator": "/operator"}
    problems: list[str] = []
    for role, path in pages.items():
        browser.clear_cookies()
        page, errors = open_signed_in(browser, demo_server.url, demo_server.accounts[role],
                                      demo_server.password)
        response = page.goto(demo_server.url + path)
        assert response is not None
        if response.status != 200:
            problems.append(f"{role}: {path} answered {response.status}")
        page.screenshot(path=artifacts / f"role-{role}.png", full_page=True)
        problems += check_page(page, role, (f"Revenue in {month}", *revenue)
                               if role == "provider" else ())
        problems += [f"{role}: the browser reported {error}" for error in errors]
        page.close()
    assert problems == []
