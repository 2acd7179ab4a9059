"""Join requests: a member of an organization asks; the project's PI or manager decides."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from ocx.domain.audit.models import AuditEvent
from ocx.domain.identity.notifications import MEMBER_ADDED
from ocx.domain.operations.models import Operation
from ocx.drivers.notifier.fake import FakeNotifier
from ocx.runtime import Runtime
from tests.integration.onboarding.helpers import API, person
from tests.support.operations import run_due_operations
from tests.support.world import World

NEWCOMER = "newcomer@a.example.org"


def _ask(client: TestClient, headers: dict[str, str], project: str = "org-a:proj-a"
         ) -> dict[str, object]:
    response = client.post(f"{API}/projects/{project}/join-requests",
                           json={"message": "I work in the lab"}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_a_manager_approves_and_the_requester_joins(client: TestClient, world: World,
                                                    runtime: Runtime) -> None:
    newcomer = person(runtime, NEWCOMER, org="org-a")
    asked = _ask(client, newcomer)
    assert (asked["state"], asked["email"], asked["project"]) == (
        "pending", NEWCOMER, "org-a:proj-a")
    again = client.post(f"{API}/projects/org-a:proj-a/join-requests", json={},
                        headers=newcomer)
    assert again.status_code == 409
    seen = client.get(f"{API}/join-requests?state=pending", headers=world["manager_a"].headers)
    assert [r["id"] for r in seen.json()["items"]] == [asked["id"]]
    assert client.get(f"{API}/join-requests", headers=world["pi_b"].headers).json()["items"] == []
    assert client.get(f"{API}/join-requests/{asked['id']}",
                      headers=world["member_a"].headers).status_code == 404
    own = client.post(f"{API}/join-requests/{asked['id']}/decision", json={"approve": True},
                      headers=newcomer)
    assert own.status_code == 403
    as_pi = client.post(f"{API}/join-requests/{asked['id']}/decision",
                        json={"approve": True, "role": "pi"}, headers=world["manager_a"].headers)
    assert as_pi.status_code == 403
    approved = client.post(f"{API}/join-requests/{asked['id']}/decision",
                           json={"approve": True, "role": "manager", "note": "welcome"},
                           headers=world["manager_a"].headers)
    assert approved.status_code == 200, approved.text
    assert (approved.json()["state"], approved.json()["decided_by"], approved.json()["note"]) \
        == ("approved", world["manager_a"].email, "welcome")
    me = client.get(f"{API}/me", headers=newcomer).json()
    assert me["projects"] == {"org-a:proj-a": "manager"}
    twice = client.post(f"{API}/join-requests/{asked['id']}/decision", json={"approve": False},
                        headers=world["pi_a"].headers)
    assert twice.status_code == 409
    with runtime.sessions() as session:
        assert session.scalar(select(Operation.id).where(Operation.kind == MEMBER_ADDED))
        actions = list(session.scalars(select(AuditEvent.action)))
    assert {"join_request.create", "join_request.approve", "member.add"} <= set(actions)


def test_a_denied_request_adds_nobody(client: TestClient, world: World,
                                      runtime: Runtime) -> None:
    newcomer = person(runtime, NEWCOMER, org="org-a")
    asked = _ask(client, newcomer)
    denied = client.post(f"{API}/join-requests/{asked['id']}/decision",
                         json={"approve": False, "note": "not this term"},
                         headers=world["pi_a"].headers)
    assert denied.json()["state"] == "denied"
    assert client.get(f"{API}/me", headers=newcomer).json()["projects"] == {}
    assert _ask(client, newcomer)["state"] == "pending"  # one may ask again


def test_only_the_organizations_people_may_ask(client: TestClient, world: World) -> None:
    outsider = client.post(f"{API}/projects/{world.project_ids['a']}/join-requests", json={},
                           headers=world["outsider"].headers)
    assert outsider.status_code == 404
    member = client.post(f"{API}/projects/{world.project_ids['a']}/join-requests", json={},
                         headers=world["member_a"].headers)
    assert member.status_code == 409
    assert "already a member" in member.json()["error"]["message"]


def test_the_pi_and_managers_hear_of_a_request_once(client: TestClient, world: World,
                                                    runtime: Runtime) -> None:
    newcomer = person(runtime, NEWCOMER, org="org-a")
    asked = _ask(client, newcomer)
    run_due_operations(runtime)
    notifier = runtime.notifier
    assert isinstance(notifier, FakeNotifier)
    told = sorted((n.recipient, n.subject, n.body) for n in notifier.delivered.values())
    assert [t[0] for t in told] == sorted([world["pi_a"].email, world["manager_a"].email])
    for _, subject, body in told:
        assert subject == f"Newcomer <{NEWCOMER}> asks to join the OCX project org-a/proj-a"
        assert "I work in the lab" in body and f"ocx join-request approve {asked['id']}" in body
    # Decided before the notification went out: nobody is bothered.
    notifier.delivered.clear()
    second = person(runtime, "second@a.example.org", org="org-a")
    waiting = _ask(client, second)
    client.post(f"{API}/join-requests/{waiting['id']}/decision", json={"approve": False},
                headers=world["pi_a"].headers)
    run_due_operations(runtime)
    assert [n.subject for n in notifier.delivered.values()
            if "asks to join" in n.subject] == []
