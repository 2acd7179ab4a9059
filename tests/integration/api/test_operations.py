"""The operations API: member add journals a notification, visibility, retry, pagination."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from ocx.domain.audit.models import AuditEvent
from ocx.domain.operations.models import Operation, OperationState
from ocx.drivers.notifier.fake import FakeNotifier
from ocx.runtime import Runtime
from tests.support.world import World

OPS = "/api/v1/operations"


def _add_member(client: TestClient, world: World, email: str, by: str = "pi_a"
                ) -> tuple[dict[str, Any], str]:
    """Create a user and add them to proj-a; the membership and the request id."""
    created = client.post("/api/v1/users", json={"email": email, "organization": "org-a"},
                          headers=world["operator"].headers)
    assert created.status_code == 201, created.text
    added = client.post(f"/api/v1/projects/{world.project_ids['a']}/members",
                        json={"email": email, "role": "member"}, headers=world[by].headers)
    assert added.status_code == 201, added.text
    return added.json(), added.headers["x-request-id"]


def _only_operation(client: TestClient, world: World, who: str) -> dict[str, Any]:
    listing = client.get(OPS, params={"kind": "notify.member_added"}, headers=world[who].headers)
    assert listing.status_code == 200, listing.text
    (op,) = listing.json()["items"]
    return dict(op)


def _fail(runtime: Runtime, op_id: str) -> None:
    with runtime.sessions() as session, session.begin():
        op = session.get(Operation, uuid.UUID(op_id))
        assert op is not None
        op.state, op.attempts, op.last_error = OperationState.FAILED, 8, "mailbox full"


def test_adding_a_member_journals_a_notification(client: TestClient, world: World) -> None:
    membership, request_id = _add_member(client, world, "ada@a.example.org")
    op = _only_operation(client, world, "pi_a")
    me = client.get("/api/v1/me", headers=world["pi_a"].headers).json()["user"]
    assert op["state"] == "pending" and op["attempts"] == 0
    assert (op["target_type"], op["target_id"]) == ("membership", membership["id"])
    assert op["requested_by"] == me["id"]
    assert op["request_id"] == request_id
    assert op["payload"] == {"project": "proj-a", "email": "ada@a.example.org", "role": "member"}
    assert _only_operation(client, world, "operator")["id"] == op["id"]


def test_an_operation_is_visible_to_its_requester_and_operators_only(
        client: TestClient, world: World) -> None:
    _add_member(client, world, "ada@a.example.org")
    op_id = _only_operation(client, world, "pi_a")["id"]
    for who in ("pi_a", "operator"):
        assert client.get(f"{OPS}/{op_id}", headers=world[who].headers).status_code == 200
    for who in ("pi_b", "admin_a", "manager_a", "outsider"):
        response = client.get(f"{OPS}/{op_id}", headers=world[who].headers)
        assert response.status_code == 404, who
        assert response.json()["error"] == {"type": "not_found",
                                             "message": "operation not found"}
        listing = client.get(OPS, headers=world[who].headers).json()
        assert listing["items"] == [], who
    assert client.get(f"{OPS}/{uuid.uuid4()}", headers=world["operator"].headers
                      ).status_code == 404
    assert client.get(OPS).status_code == 401


def test_operators_retry_failed_operations(client: TestClient, world: World,
                                           runtime: Runtime) -> None:
    _add_member(client, world, "ada@a.example.org")
    op_id = _only_operation(client, world, "pi_a")["id"]
    pending = client.post(f"{OPS}/{op_id}/retry", headers=world["operator"].headers)
    assert pending.status_code == 409
    assert "only failed operations can be retried" in pending.json()["error"]["message"]
    _fail(runtime, op_id)
    assert client.post(f"{OPS}/{op_id}/retry", headers=world["pi_a"].headers
                       ).status_code == 403
    assert client.post(f"{OPS}/{op_id}/retry", headers=world["outsider"].headers
                       ).status_code == 404
    retried = client.post(f"{OPS}/{op_id}/retry", headers=world["operator"].headers)
    assert retried.status_code == 202, retried.text
    body = retried.json()
    assert (body["state"], body["attempts"], body["last_error"]) == (
        "pending", 0, "mailbox full")
    failed = client.get(OPS, params={"state": "failed"}, headers=world["operator"].headers)
    assert failed.json()["items"] == []


def test_a_worker_delivers_the_notification(client: TestClient, world: World,
                                            runtime: Runtime) -> None:
    _add_member(client, world, "ada@a.example.org")
    assert runtime.tasks.run_queued() == 1  # the wake-up published after the commit
    op = _only_operation(client, world, "pi_a")
    assert (op["state"], op["attempts"]) == ("done", 1)
    assert op["result"] == {"recipient": "ada@a.example.org", "project": "org-a/proj-a"}
    notifier = runtime.notifier
    assert isinstance(notifier, FakeNotifier)
    (note,) = notifier.delivered.values()
    assert note.recipient == "ada@a.example.org"
    assert note.subject == "You were added to the OCX project org-a/proj-a"
    assert "member of the project org-a/proj-a" in note.body
    with runtime.sessions() as session:
        trail = list(session.execute(
            select(AuditEvent.action, AuditEvent.actor, AuditEvent.request_id)
            .where(AuditEvent.target_id == op["id"]).order_by(AuditEvent.created_at)))
    assert [(a, who) for a, who, _ in trail] == [
        ("operation.enqueue", "pi@a.example.org"), ("operation.start", "system"),
        ("operation.done", "system")]
    assert [rid for _, _, rid in trail][1:] == [op["id"], op["id"]]


def test_listing_pages_and_filters(client: TestClient, world: World, runtime: Runtime) -> None:
    for n in range(5):
        _add_member(client, world, f"user{n}@a.example.org")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(OPS, params=params, headers=world["pi_a"].headers).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 5
    _fail(runtime, seen[0])
    failed = client.get(OPS, params={"state": "failed"}, headers=world["pi_a"].headers).json()
    assert [item["id"] for item in failed["items"]] == [seen[0]]
    other_kind = client.get(OPS, params={"kind": "notify.other"},
                            headers=world["pi_a"].headers).json()
    assert other_kind["items"] == []
    bad = client.get(OPS, params={"state": "exploded"}, headers=world["pi_a"].headers)
    assert bad.status_code == 422
