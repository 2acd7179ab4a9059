"""A PI requests an allocation in a real browser and watches it become active.

The live server is ``ocx serve`` with its worker threads on: the allocation is
provisioned on the fake cloud by the server's own workers, as in ``make run``.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple"
COMPONENTS = [{"name": "cores", "unit": "core", "max": 64, "default": 4},
              {"name": "ram_mib", "unit": "MiB", "max": 262144, "default": 8192}]


def _api(live_server: LiveServer, who: str, method: str, path: str,
         body: dict[str, object]) -> None:
    response = httpx.request(method, f"{live_server.url}/api/v1{path}", json=body,
                             headers=live_server.world[who].headers)
    assert response.status_code in (200, 201), response.text


def _seed_market(live_server: LiveServer) -> None:
    """org-b sells compute on the fake driver, approved automatically; org-a's PI buys."""
    _api(live_server, "operator", "POST", "/providers",
         {"organization": "org-b", "name": "cloudb", "display_name": "Cloud B"})
    _api(live_server, "admin_b", "POST", "/offerings", {
        "provider": "cloudb", "name": "compute", "kind": "openstack", "driver": "fake",
        "display_name": "Compute", "description": "Virtual machines on Cloud B",
        "driver_settings": {"cloud": f"e2e-{uuid.uuid4().hex}"}, "components": COMPONENTS,
        "auto_approve": True})
    _api(live_server, "admin_b", "POST", "/offerings/cloudb:compute/plans", {
        "name": "standard", "currency": "USD", "rates": [
            {"component": "cores", "kind": "usage", "unit": "core-hour",
             "unit_price": "0.012", "valid_from": "2026-01-01T00:00:00Z"}]})
    _api(live_server, "pi_a", "PATCH", "/users/me", {"password": PASSWORD})


def _sign_in(page: Page, url: str, email: str) -> None:
    page.goto(url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(url + "/")


def test_pi_requests_an_allocation_and_sees_it_become_active(
        live_server: LiveServer, browser: BrowserContext, artifacts: Path) -> None:
    _seed_market(live_server)
    url = live_server.url
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    _sign_in(page, url, live_server.world["pi_a"].email)

    page.get_by_role("link", name="org-a/proj-a").click()
    expect(page.get_by_role("heading", name="org-a/proj-a")).to_be_visible()
    expect(page.get_by_role("link", name="Members")).to_be_visible()
    page.get_by_role("link", name="Request an allocation").click()
    page.get_by_role("link", name="Choose cloudb:compute").click()
    page.get_by_label("cores").fill("16")
    page.get_by_label("Justification").fill("Simulations for the spring term")
    page.screenshot(path=artifacts / "e2e-request-allocation.png", full_page=True)
    page.get_by_role("button", name="Request allocation").click()

    expect(page).to_have_url(re.compile(r"/allocations/[0-9a-f-]{36}$"))
    expect(page.get_by_text("Allocation requested and approved")).to_be_visible()
    status = page.locator("#allocation-status")
    # htmx polls the state every 2 s; the server's workers provision it on the fake cloud.
    expect(status.locator(".badge")).to_have_text("active", timeout=20_000)
    expect(page.get_by_role("button", name="Issue new credentials")).to_be_visible()
    page.screenshot(path=artifacts / "e2e-allocation-active.png", full_page=True)

    page.get_by_role("button", name="Issue new credentials").click()
    expect(page).to_have_url(re.compile(r"/operations/[0-9a-f-]{36}$"))
    download_button = page.get_by_role("button", name=re.compile("^Download credentials"))
    expect(download_button).to_be_visible(timeout=20_000)
    page.screenshot(path=artifacts / "e2e-operation-done.png", full_page=True)
    with page.expect_download() as download:
        download_button.click()
    assert download.value.suggested_filename == "fake-credentials.ini"
    assert "secret = " in Path(download.value.path()).read_text()

    page.goto(url + "/")
    expect(page.get_by_role("link", name="cloudb:compute")).to_be_visible()
    expect(page.get_by_text("Issue credentials").first).to_be_visible()
    page.screenshot(path=artifacts / "e2e-home-projects.png", full_page=True)
    assert problems == []
