"""A PI invites someone in a real browser; the invitee, signed in in another browser,
accepts through the mailed link and appears in the members list; the PI sets a budget."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import LiveServer
from tests.integration.onboarding.helpers import LINK

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple"
GUEST = "new.student@a.example.org"


def _signed_in(browser: BrowserContext, server: LiveServer, email: str) -> Page:
    """A new page of ``browser`` signed in as ``email``."""
    page = browser.new_page()
    page.goto(server.url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {email}.")).to_be_visible()
    return page


def _accounts(server: LiveServer) -> None:
    """A password for the PI; an account for the person they will invite."""
    world = server.world
    response = httpx.patch(f"{server.url}/api/v1/users/me", headers=world["pi_a"].headers,
                           json={"password": PASSWORD})
    assert response.status_code == 200, response.text
    response = httpx.post(f"{server.url}/api/v1/users", headers=world["operator"].headers,
                          json={"email": GUEST, "password": PASSWORD, "name": "New Student"})
    assert response.status_code == 201, response.text


def _invite(page: Page, members_url: str, artifacts: Path) -> str:
    """Invite GUEST as a member until next year from the members page; the expiry typed."""
    page.goto(members_url)
    expect(page.get_by_role("heading", name="org-a/proj-a: Members")).to_be_visible()
    expect(page.get_by_role("row", name="pi@a.example.org")).to_be_visible()
    page.screenshot(path=artifacts / "e2e-members.png", full_page=True)
    until = f"{datetime.now(UTC).year + 1}-06-30"
    invite = page.get_by_role("region", name="Invite someone")
    invite.get_by_label("Email").fill(GUEST)
    invite.get_by_label("Role").select_option("member")
    invite.get_by_label("Membership ends on").fill(until)
    invite.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status")).to_contain_text(f"Invitation sent to {GUEST} as member")
    expect(page.get_by_role("row", name=GUEST)).to_contain_text("pending")
    page.screenshot(path=artifacts / "e2e-members-invited.png", full_page=True)
    return until


def test_pi_invites_a_member_who_accepts_then_sets_a_budget(
        live_server: LiveServer, browser: BrowserContext, other_browser: BrowserContext,
        artifacts: Path) -> None:
    _accounts(live_server)
    members_url = f"{live_server.url}/projects/{live_server.world.project_ids['a']}/members"
    pi = _signed_in(browser, live_server, "pi@a.example.org")
    until = _invite(pi, members_url, artifacts)

    # The server's workers mail the invitation; the fake notifier spools it to a file.
    secret = LINK.search(live_server.mail(GUEST, "You are invited").body)
    assert secret is not None
    link = f"{live_server.url}/invitations/{secret.group(0)}"
    guest = _signed_in(other_browser, live_server, GUEST)
    guest.goto(link)
    guest.get_by_role("button", name="Accept the invitation").click()
    expect(guest.get_by_role("status")).to_have_text(
        "You joined the project org-a/proj-a as a member.")
    guest.screenshot(path=artifacts / "e2e-invitation-accepted.png", full_page=True)

    pi.reload()
    member = pi.get_by_role("table").first.get_by_role("row", name=GUEST)
    expect(member).to_contain_text("member")
    expect(member).to_contain_text(until)
    expect(pi.get_by_role("row", name=GUEST).last).to_contain_text("accepted")
    pi.screenshot(path=artifacts / "e2e-members-joined.png", full_page=True)

    pi.get_by_role("navigation", name="project").get_by_role("link", name="Budget").click()
    expect(pi.get_by_text("This project has no budget yet")).to_be_visible()
    pi.get_by_label("Amount a month").fill("2500")
    pi.get_by_label("Alert thresholds (%)").fill("50, 90, 100")
    pi.get_by_role("button", name="Save budget").click()
    expect(pi.get_by_role("status")).to_have_text(
        "Budget set: 2,500.00 USD a month, alerts at 50%, 90%, 100%.")
    expect(pi.get_by_role("row", name="90%")).to_contain_text("2,250.00 USD")
    pi.screenshot(path=artifacts / "e2e-budget.png", full_page=True)
