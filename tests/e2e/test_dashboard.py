"""A person signs in to the dashboard in a real browser and sees their projects."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import BrowserContext, expect

from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple"


def test_sign_in_see_projects_sign_out(live_server: LiveServer, browser: BrowserContext,
                                       artifacts: Path) -> None:
    pi = live_server.world["pi_a"]
    set_password = httpx.patch(f"{live_server.url}/api/v1/users/me", headers=pi.headers,
                               json={"password": PASSWORD})
    assert set_password.status_code == 200, set_password.text
    page = browser.new_page()
    problems: list[str] = []
    # The refused sign-in answers 401 by design; Chromium logs that as a console error.
    page.on("console", lambda msg: problems.append(msg.text)
            if msg.type == "error" and "status of 401" not in msg.text else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(live_server.url + "/")
    expect(page).to_have_url(live_server.url + "/login")
    page.get_by_label("Email").fill(pi.email)
    page.get_by_label("Password").fill("a wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    page.screenshot(path=artifacts / "e2e-sign-in-refused.png", full_page=True)

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_text(f"Signed in as {pi.email}.")).to_be_visible()
    expect(page.get_by_role("cell", name="org-a/proj-a")).to_be_visible()
    expect(page.get_by_text("proj-b")).to_have_count(0)
    page.screenshot(path=artifacts / "e2e-home.png", full_page=True)
    assert page.evaluate("typeof htmx") == "object"  # the vendored copy loads under the CSP

    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page).to_have_url(live_server.url + "/login")
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    assert problems == []
