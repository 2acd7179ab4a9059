"""PI eligibility by request and approval, project requests, and the PI role."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ocx.runtime import Runtime
from tests.integration.onboarding.helpers import API, make_eligible
from tests.support.world import World


def _decide(client: TestClient, path: str, headers: dict[str, str], approve: bool,
            ) -> dict[str, object]:
    response = client.post(f"{API}/{path}/decision", json={"approve": approve, "note": "ok"},
                           headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_a_project_request_needs_eligibility_then_approval(client: TestClient,
                                                           world: World) -> None:
    member, admin = world["member_a"].headers, world["admin_a"].headers
    wanted = {"organization": "org-a", "name": "genomics", "reason": "a grant"}
    refused = client.post(f"{API}/project-requests", json=wanted, headers=member)
    assert refused.status_code == 403
    assert "pi-eligibility request" in refused.json()["error"]["message"]
    asked = client.post(f"{API}/pi-eligibility", json={"organization": "org-a",
                                                       "reason": "new faculty"}, headers=member)
    assert (asked.status_code, asked.json()["state"], asked.json()["source"]) == (
        201, "pending", "request")
    assert client.post(f"{API}/pi-eligibility", json={"organization": "org-a"},
                       headers=member).status_code == 409
    row = f"pi-eligibility/{asked.json()['id']}"
    assert client.get(f"{API}/{row}", headers=world["admin_b"].headers).status_code == 404
    assert _decide(client, row, admin, False)["state"] == "denied"
    assert client.post(f"{API}/pi-eligibility", json={"organization": "org-a"},
                       headers=member).json()["state"] == "pending"
    assert _decide(client, row, admin, True)["decided_by"] == world["admin_a"].email
    pending = client.post(f"{API}/project-requests", json=wanted, headers=member)
    assert (pending.status_code, pending.json()["state"]) == (201, "pending")
    assert client.post(f"{API}/project-requests", json=wanted, headers=member).status_code \
        == 409
    approved = _decide(client, f"project-requests/{pending.json()['id']}", admin, True)
    assert approved["state"] == "approved" and approved["project_id"]
    me = client.get(f"{API}/me", headers=member).json()
    assert me["projects"]["org-a:genomics"] == "pi"


def test_self_service_approves_eligible_pis_at_once(client: TestClient, world: World,
                                                    runtime: Runtime) -> None:
    policy = client.put(f"{API}/organizations/org-a/onboarding-policy",
                        json={"pi_affiliations": ["Faculty@A.example.org"],
                              "self_service_projects": True},
                        headers=world["admin_a"].headers)
    assert policy.json() == {"organization": "org-a", "self_service_projects": True,
                             "pi_affiliations": ["faculty@a.example.org"]}
    make_eligible(runtime, world["member_a"].email, "org-a")
    created = client.post(f"{API}/project-requests",
                          json={"organization": "org-a", "name": "quick"},
                          headers=world["member_a"].headers)
    body = created.json()
    assert (body["state"], body["decided_by"]) == ("approved", None)
    assert "self-service" in body["note"]
    members = client.get(f"{API}/projects/org-a:quick/members",
                         headers=world["member_a"].headers).json()["items"]
    assert [(m["email"], m["role"]) for m in members] == [(world["member_a"].email, "pi")]


def test_only_eligible_users_are_made_pi(client: TestClient, world: World,
                                         runtime: Runtime) -> None:
    promote = client.patch(f"{API}/projects/proj-a/members/{world['member_a'].email}",
                           json={"role": "pi"}, headers=world["admin_a"].headers)
    assert promote.status_code == 403
    assert "not eligible" in promote.json()["error"]["message"]
    make_eligible(runtime, world["member_a"].email, "org-a")
    promote = client.patch(f"{API}/projects/proj-a/members/{world['member_a'].email}",
                           json={"role": "pi"}, headers=world["admin_a"].headers)
    assert promote.status_code == 200, promote.text


def test_eligibility_can_be_withdrawn_and_is_private(client: TestClient, world: World) -> None:
    outsider = client.post(f"{API}/pi-eligibility", json={"organization": "org-a"},
                           headers=world["outsider"].headers)
    assert outsider.status_code == 404
    asked = client.post(f"{API}/pi-eligibility", json={"organization": "org-b"},
                        headers=world["member_b"].headers).json()
    assert client.get(f"{API}/pi-eligibility", headers=world["admin_a"].headers
                      ).json()["items"] == []
    _decide(client, f"pi-eligibility/{asked['id']}", world["operator"].headers, True)
    gone = client.delete(f"{API}/pi-eligibility/{asked['id']}", headers=world["admin_b"].headers)
    assert gone.status_code == 204
    assert client.get(f"{API}/pi-eligibility", headers=world["member_b"].headers
                      ).json()["items"] == []


def test_deactivation_ends_eligibility_and_pending_requests(client: TestClient, world: World,
                                                            runtime: Runtime) -> None:
    member = world["member_a"]
    make_eligible(runtime, member.email, "org-a")
    asked = client.post(f"{API}/project-requests", json={"organization": "org-a",
                                                         "name": "later"},
                        headers=member.headers).json()
    operator = world["operator"].headers
    for active in (False, True):
        client.patch(f"{API}/users/{member.email}", json={"is_active": active},
                     headers=operator)
    assert client.get(f"{API}/pi-eligibility", headers=operator).json()["items"] == []
    after = client.get(f"{API}/project-requests/{asked['id']}", headers=operator).json()
    assert (after["state"], after["note"]) == ("denied", "the requester was deactivated")
