"""A project's members and budget pages: leads invite, decide, change expiries, remove and
set the budget; members see them read-only; other projects' people see nothing."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ocx.domain.actor import SYSTEM
from ocx.domain.billing import budgets
from ocx.domain.identity import join_requests
from ocx.domain.identity.models import User
from ocx.domain.identity.onboarding_states import RequestState
from ocx.domain.identity.tokens import actor_for
from ocx.domain.operations import service as operations
from ocx.runtime import Runtime
from tests.integration.onboarding.helpers import mailed_link, person
from tests.integration.web.conftest import PASSWORD
from tests.integration.web.forms import csrf_token, sign_in, sign_in_as
from tests.support.world import World

GUEST = "guest@a.example.org"
NEXT_YEAR = f"{datetime.now(UTC).year + 1}-06-30"


def members_url(world: World, side: str = "a") -> str:
    """The members page of org-``side``'s project."""
    return f"/projects/{world.project_ids[side]}/members"


def post(client: TestClient, url: str, page_url: str, **fields: str) -> tuple[int, str]:
    """Submit a form of ``page_url`` to ``url``; (status, text after redirects)."""
    token = csrf_token(client.get(page_url).text)
    response = client.post(url, data={"csrf_token": token, **fields})
    return response.status_code, response.text


def test_pi_sees_members_with_roles_and_the_lead_forms(client: TestClient,
                                                       world: World) -> None:
    sign_in_as(client, world, "pi_a")
    page = client.get(members_url(world))
    assert page.status_code == 200
    for email, role in (("pi@a.example.org", "pi"), ("manager@a.example.org", "manager"),
                        ("member@a.example.org", "member")):
        assert re.search(rf"{re.escape(email)}.*?<span class=\"badge\">{role}</span>",
                         page.text, re.S)
    assert "b.example.org" not in page.text
    assert "Send invitation" in page.text
    assert "Requests to join" in page.text
    assert f'href="/projects/{world.project_ids["a"]}"' in page.text  # back to the overview


@pytest.mark.parametrize("who", ["pi_b", "member_b", "outsider"])
def test_other_projects_people_see_and_change_nothing(client: TestClient, world: World,
                                                      who: str) -> None:
    sign_in_as(client, world, who)
    assert client.get(members_url(world)).status_code == 404
    assert client.get(f"/projects/{world.project_ids['a']}/budget").status_code == 404
    own = "/" if who == "outsider" else members_url(world, "b")
    status, text = post(client, f"{members_url(world)[:-len('/members')]}/invitations", own,
                        email="intruder@b.example.org")
    assert status == 404
    assert "intruder" not in text
    status, _ = post(client, f"/projects/{world.project_ids['a']}/budget", own,
                     amount="1", currency="USD", thresholds="50")
    assert status == 404
    listed = client.get(f"/api/v1/projects/{world.project_ids['a']}/invitations",
                        headers=world["pi_a"].headers).json()
    assert listed["items"] == []


def test_plain_member_sees_the_list_read_only(client: TestClient, world: World) -> None:
    sign_in_as(client, world, "member_a")
    page = client.get(members_url(world))
    assert page.status_code == 200
    assert "pi@a.example.org" in page.text
    assert "Send invitation" not in page.text
    assert "Remove" not in page.text
    assert "Only the project's PI and managers change its members." in page.text
    project = world.project_ids["a"]
    status, text = post(client, f"/projects/{project}/invitations", members_url(world),
                        email="friend@a.example.org")
    assert status == 403
    assert "may not invitation create" in text
    pi_id = _user_id(client, world, "pi_a")
    status, _ = post(client, f"/projects/{project}/members/{pi_id}/remove", members_url(world))
    assert status == 403
    assert "pi@a.example.org" in client.get(members_url(world)).text


def _user_id(client: TestClient, world: World, who: str) -> str:
    me = client.get("/api/v1/users/me", headers=world[who].headers)
    return str(me.json()["id"])


def test_pi_invites_and_the_invitee_accepts(client: TestClient, world: World,
                                            runtime: Runtime) -> None:
    created = client.post("/api/v1/users", json={"email": GUEST, "password": PASSWORD},
                          headers=world["operator"].headers)
    assert created.status_code == 201, created.text
    sign_in_as(client, world, "pi_a")
    status, text = post(client, f"/projects/{world.project_ids['a']}/invitations",
                        members_url(world), email=GUEST.upper(), role="manager",
                        expires_on=NEXT_YEAR)
    assert status == 200
    assert f"Invitation sent to {GUEST} as manager" in text
    assert re.search(rf"{re.escape(GUEST)}</th>\s*<td>manager</td>\s*<td><span "
                     r"class=\"badge state-pending\">pending", text)
    link = f"/invitations/{mailed_link(runtime, GUEST)}"
    client.cookies.clear()
    assert sign_in(client, GUEST, PASSWORD).status_code == 303
    accepted = client.post(link, data={"csrf_token": csrf_token(client.get(link).text)})
    assert "You joined the project org-a/proj-a as a manager." in accepted.text
    members = client.get(members_url(world)).text
    assert re.search(rf"{re.escape(GUEST)}.*?manager</span></td>\s*<td>{NEXT_YEAR}</td>",
                     members, re.S)


@pytest.mark.parametrize(("fields", "status", "message"), [
    ({"email": "not-an-email"}, 422, "Email: value is not a valid email address"),
    ({"email": "x@a.example.org", "expires_on": "2001-01-01"}, 422,
     "Expiry: the date must be after today"),
    ({"email": "x@a.example.org", "expires_on": "next week"}, 422,
     "Expiry: enter a date as YYYY-MM-DD"),
    ({"email": "x@a.example.org", "role": "overlord"}, 422, "Role: Input should be"),
    ({"email": "member@a.example.org"}, 409, "already a member"),
])
def test_a_refused_invitation_shows_why(client: TestClient, world: World,
                                        fields: dict[str, str], status: int,
                                        message: str) -> None:
    sign_in_as(client, world, "pi_a")
    got, text = post(client, f"/projects/{world.project_ids['a']}/invitations",
                     members_url(world), **fields)
    assert got == status
    assert 'role="alert"' in text
    assert message in text
    assert f'value="{fields["email"]}"' in text  # what was typed is kept


def test_a_manager_may_not_invite_a_pi(client: TestClient, world: World) -> None:
    sign_in_as(client, world, "manager_a")
    page = client.get(members_url(world)).text
    assert '<option value="pi"' not in page
    status, text = post(client, f"/projects/{world.project_ids['a']}/invitations",
                        members_url(world), email="boss@a.example.org", role="pi")
    assert status == 403
    assert "may not manage the pi role" in text


def test_forms_need_the_csrf_token(client: TestClient, world: World) -> None:
    sign_in_as(client, world, "pi_a")
    project = world.project_ids["a"]
    for url, data in ((f"/projects/{project}/invitations", {"email": "x@a.example.org"}),
                      (f"/projects/{project}/budget", {"amount": "5", "thresholds": "50"})):
        refused = client.post(url, data={**data, "csrf_token": "forged"})
        assert refused.status_code == 403
        assert "Form expired" in refused.text
    assert "x@a.example.org" not in client.get(members_url(world)).text


def test_pi_changes_an_expiry_then_removes_the_member(client: TestClient,
                                                      world: World) -> None:
    sign_in_as(client, world, "pi_a")
    project, member = world.project_ids["a"], _user_id(client, world, "member_a")
    status, text = post(client, f"/projects/{project}/members/{member}/expiry",
                        members_url(world), expires_on=NEXT_YEAR)
    assert (status, f"member@a.example.org: membership ends {NEXT_YEAR}.") == (
        200, re.search(r"member@a\.example\.org: membership ends [^<]+", text).group(0))
    status, text = post(client, f"/projects/{project}/members/{member}/expiry",
                        members_url(world), expires_on="2000-01-01")
    assert status == 422 and "the date must be after today" in text
    status, text = post(client, f"/projects/{project}/members/{member}/expiry",
                        members_url(world), expires_on="")
    assert "member@a.example.org: membership ends no expiry." in text
    confirm_url = f"/projects/{project}/members/{member}/remove"
    confirm = client.get(confirm_url)
    assert "Remove member@a.example.org?" in confirm.text
    assert "member@a.example.org" in client.get(members_url(world)).text  # not yet
    status, text = post(client, confirm_url, confirm_url)
    assert status == 200
    assert "member@a.example.org was removed from the project." in text
    assert "member@a.example.org</th>" not in text


def test_a_manager_may_not_remove_the_pi(client: TestClient, world: World) -> None:
    sign_in_as(client, world, "manager_a")
    project, pi_id = world.project_ids["a"], _user_id(client, world, "pi_a")
    confirm = client.get(f"/projects/{project}/members/{pi_id}/remove")
    assert "you may not remove them" in confirm.text
    status, text = post(client, f"/projects/{project}/members/{pi_id}/remove",
                        members_url(world))
    assert status == 403
    assert "pi@a.example.org" in text


def test_pi_approves_and_denies_join_requests(client: TestClient, world: World,
                                              runtime: Runtime) -> None:
    project = world.project_ids["a"]
    for email in ("ann@a.example.org", "bob@a.example.org"):
        asked = client.post(f"/api/v1/projects/{project}/join-requests",
                            json={"message": f"{email} wants in"},
                            headers=person(runtime, email, "org-a"))
        assert asked.status_code == 201, asked.text
    sign_in_as(client, world, "pi_a")
    page = client.get(members_url(world)).text
    assert "ann@a.example.org wants in" in page
    ids = re.findall(rf"/projects/{project}/join-requests/([0-9a-f-]+)", page)
    assert len(ids) == 2
    status, text = post(client, f"/projects/{project}/join-requests/{ids[0]}",
                        members_url(world), decision="approve", role="member")
    assert (status, "ann@a.example.org joined as member.") == (200, _flash(text))
    status, text = post(client, f"/projects/{project}/join-requests/{ids[1]}",
                        members_url(world), decision="deny", note="not this term")
    assert (status, "bob@a.example.org was denied.") == (200, _flash(text))
    assert "ann@a.example.org</th>" in text
    assert "bob@a.example.org</th>" not in text
    assert "No one is waiting to join." in text


def _flash(text: str) -> str:
    found = re.search(r'class="flash flash-success" role="status">([^<]+)<', text)
    return found.group(1) if found else text


def test_join_requests_of_one_project(client: TestClient, runtime: Runtime,
                                      world: World) -> None:
    """``list_requests(project_id=...)`` (what the members page lists) keeps one project's."""
    for side in ("a", "b"):
        asked = client.post(f"/api/v1/projects/{world.project_ids[side]}/join-requests",
                            json={}, headers=person(runtime, f"joiner@{side}.example.org",
                                                    f"org-{side}"))
        assert asked.status_code == 201, asked.text
    with runtime.sessions() as session:
        operator = session.scalar(select(User).where(User.email == world["operator"].email))
        assert operator is not None
        found = join_requests.list_requests(
            session, actor_for(session, operator), cursor=None, limit=10,
            state=RequestState.PENDING, project_id=uuid.UUID(world.project_ids["a"]))
        assert [row.user.email for row in found.items] == ["joiner@a.example.org"]


def test_pi_sets_the_budget_and_sees_the_thresholds(client: TestClient,
                                                    world: World) -> None:
    sign_in_as(client, world, "pi_a")
    url = f"/projects/{world.project_ids['a']}/budget"
    assert "This project has no budget yet" in client.get(url).text
    status, text = post(client, url, url, amount="1200.5", currency="usd",
                        thresholds="90, 50")
    assert status == 200
    assert "Budget set: 1,200.50 USD a month, alerts at 50%, 90%." in text
    assert "1,200.50 USD" in text
    assert re.search(r"90%</th>\s*<td>1,080.45 USD</td>", text)
    assert 'value="50, 90"' in text


@pytest.mark.parametrize(("fields", "message"), [
    ({"amount": "lots", "thresholds": "50"}, "Amount: Input should be a valid decimal"),
    ({"amount": "0", "thresholds": "50"}, "Amount: Input should be greater than 0"),
    ({"amount": "10", "thresholds": "half"}, "Thresholds: enter whole percentages"),
    ({"amount": "10", "thresholds": "50, 50"}, "Thresholds: thresholds must be distinct"),
    ({"amount": "10", "thresholds": ""}, "Thresholds: List should have at least 1 item"),
    ({"amount": "10", "currency": "dollars", "thresholds": "50"}, "Currency: String should"),
])
def test_a_refused_budget_shows_why(client: TestClient, world: World,
                                    fields: dict[str, str], message: str) -> None:
    sign_in_as(client, world, "pi_a")
    url = f"/projects/{world.project_ids['a']}/budget"
    status, text = post(client, url, url, **fields)
    assert status == 422
    assert message in text
    assert "This project has no budget yet" in text


def test_members_see_the_budget_and_alerts_but_may_not_set_it(
        client: TestClient, world: World, runtime: Runtime) -> None:
    set_ = client.put(f"/api/v1/projects/{world.project_ids['a']}/budget",
                      json={"amount": "300", "thresholds": [80]}, headers=world["pi_a"].headers)
    assert set_.status_code == 200, set_.text
    project_id = uuid.UUID(world.project_ids["a"])
    with runtime.sessions.begin() as session:  # what check_budgets journals at 80%
        operations.enqueue(session, SYSTEM, kind=budgets.ALERT, target=("project", project_id),
                           idempotency_key=budgets.alert_key(
                               project_id, datetime.now(UTC).strftime("%Y-%m"), 80))
    sign_in_as(client, world, "member_a")
    url = f"/projects/{world.project_ids['a']}/budget"
    page = client.get(url).text
    assert "300.00 USD" in page
    assert re.search(r"80%</th>\s*<td>240.00 USD</td>\s*<td>not yet</td>\s*<td><span "
                     r"class=\"badge\">sent</span>", page)
    assert "Save budget" not in page
    status, text = post(client, url, url, amount="1", currency="USD", thresholds="50")
    assert status == 403
    assert "300.00 USD" in text
