"""Notification operations: tell people what happened to them."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import or_, select

from ocx.domain.identity.models import Membership, ProjectRole, User
from ocx.domain.identity.onboarding_models import JoinRequest
from ocx.domain.identity.onboarding_states import RequestState
from ocx.domain.operations.handlers import HandlerContext, OperationRef
from ocx.drivers.notifier import Notification
from ocx.persistence.base import utcnow

MEMBER_ADDED = "notify.member_added"
JOIN_REQUESTED = "notify.join_requested"


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


def join_requested(ctx: HandlerContext, op: OperationRef) -> dict[str, Any]:
    """Tell a project's PIs and managers that someone asks to join it, and how to decide."""
    with ctx.sessions() as session:
        row = session.get(JoinRequest, uuid.UUID(op.target_id))
        if row is None or row.state is not RequestState.PENDING:
            return {"skipped": "the request is no longer waiting for a decision"}
        project = f"{row.project.organization.name}/{row.project.name}"
        asker = f"{row.user.name} <{row.user.email}>" if row.user.name else row.user.email
        leads = session.scalars(select(User).join(Membership, Membership.user_id == User.id)
                                .where(Membership.project_id == row.project_id,
                                       Membership.role.in_((ProjectRole.PI,
                                                            ProjectRole.MANAGER)),
                                       or_(Membership.expires_at.is_(None),
                                           Membership.expires_at > utcnow()))
                                .order_by(User.email)).all()
        said = f"Their message:\n\n  {row.message}\n\n" if row.message else ""
        notifications = [Notification(
            recipient=lead.email,
            subject=f"{asker} asks to join the OCX project {project}",
            body=(f"Hello {lead.name or lead.email},\n\n{asker} asks to join the project "
                  f"{project} on OCX.\n\n{said}Approve or deny it:\n\n"
                  f"  ocx join-request approve {row.id}\n"
                  f"  ocx join-request deny {row.id} --note REASON\n"),
            idempotency_key=f"{op.idempotency_key}:{lead.email}") for lead in leads]
    for notification in notifications:
        ctx.notifier.send(notification)
    return {"recipients": [n.recipient for n in notifications], "project": project}
