"""JSON bodies shaped like the API's answers, for tests that fake the server."""

from __future__ import annotations

import uuid
from typing import Any

NOW = "2025-11-21T11:12:13Z"


def org(name: str = "acme", **fields: Any) -> dict[str, Any]:
    """An organization as the API returns it."""
    return {"id": str(uuid.uuid4()), "name": name, "display_name": "", "description": "",
            "created_at": NOW, **fields}


def user(email: str = "bob@example.org", **fields: Any) -> dict[str, Any]:
    """A user as the API returns it."""
    return {"id": str(uuid.uuid4()), "email": email, "name": "", "is_operator": False,
            "is_active": True, "created_at": NOW, **fields}


def operation(state: str = "pending", **fields: Any) -> dict[str, Any]:
    """An operation as the API returns it."""
    return {"id": str(uuid.uuid4()), "kind": "notify.member_added", "state": state,
            "attempts": 0, "max_attempts": 8, "last_error": None, "target_type": "membership",
            "target_id": str(uuid.uuid4()), "payload": {}, "result": None,
            "requested_by": None, "request_id": "req-1", "next_attempt_at": NOW,
            "claimed_by": None, "lease_expires_at": None, "started_at": None,
            "finished_at": None, "created_at": NOW, "updated_at": NOW, **fields}


def error(kind: str, message: str) -> dict[str, Any]:
    """OCX's one error shape."""
    return {"error": {"type": kind, "message": message}}


def page(items: list[dict[str, Any]], next_cursor: str | None = None) -> dict[str, Any]:
    """One page of a list."""
    return {"items": items, "next_cursor": next_cursor}
