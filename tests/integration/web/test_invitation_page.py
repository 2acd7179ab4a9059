"""The page an invitation link opens: sign in, then accept with one button."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ocx.runtime import Runtime
from tests.integration.onboarding.helpers import mailed_link
from tests.integration.web.conftest import PASSWORD
from tests.integration.web.forms import csrf_token, sign_in
from tests.support.world import World

GUEST = "guest@x.example.org"


def test_an_invitation_link_is_accepted_in_the_browser(client: TestClient, world: World,
                                                       runtime: Runtime) -> None:
    created = client.post("/api/v1/users", json={"email": GUEST, "password": PASSWORD},
                          headers=world["operator"].headers)
    assert created.status_code == 201, created.text
    invited = client.post("/api/v1/projects/proj-a/invitations", json={"email": GUEST},
                          headers=world["pi_a"].headers)
    assert invited.status_code == 201, invited.text
    link = f"/invitations/{mailed_link(runtime, GUEST)}"
    assert "Sign in with the address" in client.get(link).text
    assert sign_in(client, GUEST, PASSWORD).status_code == 303
    page = client.get(link)
    assert "Accept the invitation" in page.text
    accepted = client.post(link, data={"csrf_token": csrf_token(page.text)},
                           follow_redirects=False)
    assert accepted.status_code == 303
    assert "You joined the project org-a/proj-a as a member." in client.get("/").text
    again = client.post(link, data={"csrf_token": csrf_token(page.text)})
    assert "already used" in again.text
    forged = client.post(link, data={"csrf_token": "forged"})
    assert forged.status_code == 403
