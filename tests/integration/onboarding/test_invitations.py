"""Invitations: single-use, expiring links, mailed through the notifier, bound to the
invited address."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from ocx.domain.audit.models import AuditEvent
from ocx.domain.identity import tokens
from ocx.domain.identity.onboarding_models import Invitation
from ocx.runtime import Runtime
from tests.integration.onboarding.helpers import API, mailed_link, make_eligible, person
from tests.support.world import World

GUEST = "guest@elsewhere.example.org"


def _invite(client: TestClient, world: World, email: str = GUEST, who: str = "pi_a",
            **body: object) -> dict[str, object]:
    response = client.post(f"{API}/projects/{world.project_ids['a']}/invitations",
                           json={"email": email, **body}, headers=world[who].headers)
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


def test_the_link_is_mailed_and_works_once(client: TestClient, world: World,
                                           runtime: Runtime) -> None:
    until = datetime(2030, 1, 1, tzinfo=UTC)
    created = _invite(client, world, role="manager", membership_expires_at=until.isoformat())
    assert created["state"] == "pending" and "token" not in created
    secret = mailed_link(runtime, GUEST)
    with runtime.sessions() as session:
        row = session.get(Invitation, uuid.UUID(str(created["id"])))
        assert row is not None and row.digest == tokens.digest(secret)
        assert secret not in str([getattr(row, c.key) for c in Invitation.__table__.columns])
    guest = person(runtime, GUEST)
    accepted = client.post(f"{API}/invitations/accept", json={"token": secret}, headers=guest)
    assert accepted.status_code == 201, accepted.text
    assert (accepted.json()["role"], accepted.json()["expires_at"]) == (
        "manager", "2030-01-01T00:00:00Z")
    assert [p["name"] for p in client.get(f"{API}/projects", headers=guest).json()["items"]] \
        == ["proj-a"]
    again = client.post(f"{API}/invitations/accept", json={"token": secret}, headers=guest)
    assert again.status_code == 409
    assert "already used" in again.json()["error"]["message"]
    listed = client.get(f"{API}/projects/proj-a/invitations", headers=world["pi_a"].headers)
    assert [i["state"] for i in listed.json()["items"]] == ["accepted"]
    with runtime.sessions() as session:
        actions = set(session.scalars(select(AuditEvent.action)))
    assert {"invitation.create", "invitation.accept", "member.add"} <= actions


def test_only_the_invited_address_may_accept(client: TestClient, world: World,
                                             runtime: Runtime) -> None:
    _invite(client, world)
    secret = mailed_link(runtime, GUEST)
    wrong = client.post(f"{API}/invitations/accept", json={"token": secret},
                        headers=world["member_b"].headers)
    assert wrong.status_code == 403
    assert "g***@elsewhere.example.org" in wrong.json()["error"]["message"]
    unknown = client.post(f"{API}/invitations/accept", json={"token": secret + "x"},
                          headers=world["member_b"].headers)
    assert unknown.status_code == 404


def test_revoked_and_expired_links_are_refused(client: TestClient, world: World,
                                               runtime: Runtime) -> None:
    first = _invite(client, world)
    secret = mailed_link(runtime, GUEST)
    guest = person(runtime, GUEST)
    revoked = client.delete(f"{API}/projects/proj-a/invitations/{first['id']}",
                            headers=world["manager_a"].headers)
    assert revoked.json()["state"] == "revoked"
    refused = client.post(f"{API}/invitations/accept", json={"token": secret}, headers=guest)
    assert (refused.status_code, "revoked" in refused.json()["error"]["message"]) == (409, True)
    second = _invite(client, world, email="late@x.example.org")
    late = mailed_link(runtime, "late@x.example.org")
    with runtime.sessions.begin() as session:
        session.execute(update(Invitation).where(
            Invitation.id == uuid.UUID(str(second["id"]))).values(
                expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    expired = client.post(f"{API}/invitations/accept", json={"token": late},
                          headers=person(runtime, "late@x.example.org"))
    assert expired.status_code == 409
    assert "expired" in expired.json()["error"]["message"]


def test_duplicates_members_and_roles_are_checked(client: TestClient, world: World,
                                                  runtime: Runtime) -> None:
    _invite(client, world)
    twice = client.post(f"{API}/projects/proj-a/invitations", json={"email": GUEST},
                        headers=world["pi_a"].headers)
    assert twice.status_code == 409
    member = client.post(f"{API}/projects/proj-a/invitations",
                         json={"email": world["member_a"].email}, headers=world["pi_a"].headers)
    assert member.status_code == 409
    pi_by_manager = client.post(f"{API}/projects/proj-a/invitations",
                                json={"email": "boss@x.example.org", "role": "pi"},
                                headers=world["manager_a"].headers)
    assert pi_by_manager.status_code == 403


def test_a_pi_invitation_needs_an_eligible_invitee(client: TestClient, world: World,
                                                   runtime: Runtime) -> None:
    _invite(client, world, role="pi")
    secret = mailed_link(runtime, GUEST)
    guest = person(runtime, GUEST, org="org-a")
    refused = client.post(f"{API}/invitations/accept", json={"token": secret}, headers=guest)
    assert refused.status_code == 403
    assert "not eligible to lead projects of org-a" in refused.json()["error"]["message"]
    make_eligible(runtime, GUEST, "org-a")
    accepted = client.post(f"{API}/invitations/accept", json={"token": secret}, headers=guest)
    assert (accepted.status_code, accepted.json()["role"]) == (201, "pi")
