"""Notification operations: tell people what happened to them."""

from __future__ import annotations

import uuid
from typing import Any

from ocx.domain.identity.models import Membership
from ocx.domain.operations.handlers import HandlerContext, OperationRef
from ocx.drivers.notifier import Notification

MEMBER_ADDED = "notify.member_added"


def member_added_key(membership_id: uuid.UUID) -> str:
    """The idempotency key of the notification for one new membership."""
    return f"{MEMBER_ADDED}:{membership_id}"


def member_added(ctx: HandlerContext, op: OperationRef) -> dict[str, Any]:
    """Tell a new project member which project they joined and with which role."""
    with ctx.sessions() as session:
        row = session.get(Membership, uuid.UUID(op.target_id))
        if row is None:
            return {"skipped": "the membership no longer exists"}
        project = f"{row.project.organization.name}/{row.project.name}"
        notification = Notification(
            recipient=row.user.email,
            subject=f"You were added to the OCX project {project}",
            body=(f"Hello {row.user.name or row.user.email},\n\n"
                  f"you are now a {row.role.value} of the project {project} on OCX.\n"),
            idempotency_key=op.idempotency_key)
    ctx.notifier.send(notification)
    return {"recipient": notification.recipient, "project": project}
