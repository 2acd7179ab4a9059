"""A provider's admin sees a pending allocation request in a real browser and approves it;
the server's workers then provision it on the fake cloud."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, expect

from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple"
COMPONENTS = [{"name": "cores", "unit": "core", "max": 64, "default": 4},
              {"name": "ram_mib", "unit": "MiB", "max": 262144, "default": 8192}]


def _call(server: LiveServer, who: str, method: str, path: str, body: Any,
          status: int = 201) -> Any:
    response = httpx.request(method, f"{server.url}/api/v1{path}", json=body,
                             headers=server.world[who].headers)
    assert response.status_code == status, response.text
    return response.json()


def _seed(server: LiveServer) -> str:
    """org-b sells cloudb:compute and lends node bn1; proj-a asks for compute (the id of
    that allocation)."""
    _call(server, "operator", "POST", "/providers",
          {"organization": "org-b", "name": "cloudb", "display_name": "Cloud B"})
    _call(server, "admin_b", "POST", "/offerings", {
        "provider": "cloudb", "name": "compute", "kind": "openstack", "driver": "fake",
        "display_name": "Compute", "driver_settings": {"cloud": "e2e-cloudb"},
        "components": COMPONENTS})
    _call(server, "admin_b", "POST", "/offerings/cloudb:compute/plans", {
        "name": "standard", "currency": "USD", "rates": [
            {"component": "cores", "kind": "usage", "unit": "core-hour",
             "unit_price": "0.012", "valid_from": "2026-01-01T00:00:00Z"}]})
    _call(server, "operator", "POST", "/sites", {"name": "site-1", "vlan_min": 100,
                                                  "vlan_max": 109})
    _call(server, "admin_b", "POST", "/nodes", {
        "name": "bn1", "site": "site-1", "owner": "org-b", "resource_class": "gpu",
        "power_driver": "fake", "power_settings": {"bmc": "e2e-bn1", "password": "pw-bn1-x"}})
    ends = datetime.now(UTC) + timedelta(days=2)
    offer = _call(server, "admin_b", "POST", "/offers",
                  {"node": "bn1", "ends_at": (ends + timedelta(days=1)).isoformat()})
    _call(server, "pi_a", "POST", "/leases", {
        "offer": offer["id"], "project": server.world.project_ids["a"],
        "ends_at": ends.isoformat()})
    allocation = _call(server, "pi_a", "POST", "/allocations", {
        "project": server.world.project_ids["a"], "offering": "cloudb:compute",
        "quota": {"cores": 16}, "justification": "protein folding runs"})
    _call(server, "admin_b", "PATCH", "/users/me", {"password": PASSWORD}, status=200)
    return str(allocation["id"])


def _wait_for_state(server: LiveServer, allocation: str, state: str,
                    timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while (now := _call(server, "pi_a", "GET", f"/allocations/{allocation}", None,
                        status=200)["state"]) != state:
        assert time.monotonic() < deadline, f"the allocation is still {now}, not {state}"
        time.sleep(0.2)


def test_provider_admin_approves_a_pending_request(live_server: LiveServer,
                                                   browser: BrowserContext,
                                                   artifacts: Path) -> None:
    allocation = _seed(live_server)
    admin = live_server.world["admin_b"]
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(live_server.url + "/login")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server.url + "/")
    page.get_by_role("link", name="Provider").click()
    expect(page).to_have_url(live_server.url + "/provider")

    request = page.get_by_role("row").filter(has_text="protein folding runs")
    expect(request).to_be_visible()
    expect(request.get_by_role("cell", name="org-a:proj-a", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="bn1", exact=True)).to_have_count(2)  # node, lease
    expect(page.get_by_role("link", name="Compute", exact=True)).to_be_visible()
    page.screenshot(path=artifacts / "e2e-provider.png", full_page=True)

    request.get_by_label("Reason").fill("welcome aboard")
    request.get_by_role("button", name="Approve org-a:proj-a on cloudb:compute").click()
    expect(page.get_by_role("status").filter(
        has_text="The request of org-a:proj-a on cloudb:compute was approved.")).to_be_visible()
    expect(page.get_by_text("protein folding runs")).to_have_count(0)
    expect(page.get_by_text("Nothing waits for your decision.")).to_be_visible()
    page.screenshot(path=artifacts / "e2e-provider-approved.png", full_page=True)

    _wait_for_state(live_server, allocation, "active")  # the server's workers provisioned it
    page.get_by_role("link", name="Compute", exact=True).click()
    expect(page.get_by_role("heading", name="Plans and prices")).to_be_visible()
    allocations = page.get_by_role("region", name="Allocations")
    expect(allocations.get_by_role("row").filter(has_text="org-a:proj-a").locator(".badge")
           ).to_have_text("active")
    page.screenshot(path=artifacts / "e2e-provider-offering.png", full_page=True)
    assert problems == []
