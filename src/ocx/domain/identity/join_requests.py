"""Join requests: a member of an organization asks to join one of its projects; the
project's PI or a manager (or the organization's admins) approve or deny. Approval adds
the membership, and with it the member's access on the project's providers."""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from ocx.domain import policy
from ocx.domain.actor import Actor
from ocx.domain.audit import service as audit
from ocx.domain.identity import decisions, service
from ocx.domain.identity import notifications as notify
from ocx.domain.identity.models import Membership, Project, ProjectRole
from ocx.domain.identity.onboarding_models import JoinRequest
from ocx.domain.identity.onboarding_schemas import JoinDecision, JoinRequestCreate
from ocx.domain.identity.onboarding_states import RequestState
from ocx.domain.operations import service as operations
from ocx.domain.policy import Action, Target
from ocx.errors import Conflict, InvalidInput, NotFound
from ocx.persistence.base import utcnow
from ocx.persistence.pagination import Page, paginate

LEAD_ROLES = (ProjectRole.PI, ProjectRole.MANAGER)


def _target(row: JoinRequest) -> Target:
    return Target(org_id=row.project.organization_id, project_id=row.project_id,
                  owner_id=row.user_id)


def create(session: Session, actor: Actor, project_ref: str,
           body: JoinRequestCreate) -> JoinRequest:
    """Ask to join a project of an organization one belongs to.

    Raises:
        Conflict: already a member, or a request is waiting for a decision.
    """
    project = service.find_project(session, project_ref, actor)
    policy.authorize(actor, Action.JOIN_REQUEST_CREATE, service.project_target(project))
    if actor.user_id is None:
        raise InvalidInput("only users can join projects")
    member = session.scalar(select(Membership.id).where(
        Membership.project_id == project.id, Membership.user_id == actor.user_id,
        or_(Membership.expires_at.is_(None), Membership.expires_at > utcnow())))
    if member is not None:
        raise Conflict(f"you are already a member of {project.name}")
    if session.scalar(select(JoinRequest.id).where(
            JoinRequest.project_id == project.id, JoinRequest.user_id == actor.user_id,
            JoinRequest.state == RequestState.PENDING)) is not None:
        raise Conflict(f"your request to join {project.name} is waiting for a decision")
    row = JoinRequest(project_id=project.id, user_id=actor.user_id, message=body.message)
    session.add(row)
    session.flush()
    audit.record(session, actor, "join_request.create", "join_request", row.id,
                 organization_id=project.organization_id,
                 changes={"project": project.name, "message": body.message})
    operations.enqueue(session, actor, kind=notify.JOIN_REQUESTED,
                       target=("join_request", row.id),
                       idempotency_key=f"{notify.JOIN_REQUESTED}:{row.id}")
    return row


def list_requests(session: Session, actor: Actor, *, cursor: str | None, limit: int,
                  state: RequestState | None = None,
                  project_id: uuid.UUID | None = None) -> Page[JoinRequest]:
    """One's own requests and those one may decide (operators: all), optionally only
    those of one project."""
    policy.authorize(actor, Action.JOIN_REQUEST_LIST)
    stmt = (select(JoinRequest).join(Project, Project.id == JoinRequest.project_id)
            .options(joinedload(JoinRequest.user),
                     joinedload(JoinRequest.project).joinedload(Project.organization)))
    if not actor.is_operator:
        led = [pid for pid, role in actor.project_roles.items() if role in LEAD_ROLES]
        stmt = stmt.where(or_(JoinRequest.user_id == actor.user_id,
                              JoinRequest.project_id.in_(led),
                              Project.organization_id.in_(actor.admin_org_ids())))
    if state is not None:
        stmt = stmt.where(JoinRequest.state == state)
    if project_id is not None:
        stmt = stmt.where(JoinRequest.project_id == project_id)
    return paginate(session, stmt, JoinRequest, cursor=cursor, limit=limit)


def get_request(session: Session, actor: Actor, row_id: uuid.UUID,
                action: Action = Action.JOIN_REQUEST_READ) -> JoinRequest:
    """One join request the actor may see (and take ``action`` on)."""
    row = session.get(JoinRequest, row_id)
    if row is None:
        raise NotFound("join_request not found")
    policy.authorize(actor, action, _target(row))
    return row


def decide(session: Session, actor: Actor, row_id: uuid.UUID, body: JoinDecision) -> JoinRequest:
    """Approve (adding the member with ``body.role``) or deny a pending request."""
    row = get_request(session, actor, row_id, Action.JOIN_REQUEST_DECIDE)
    target = _target(row)
    if body.approve:
        policy.authorize_grant(actor, target, body.role)
        if row.state is RequestState.PENDING:
            service.enrol(session, actor, row.project, row.user, body.role, body.expires_at,
                          via="join request")
    decisions.decide(session, actor, row, approve=body.approve, note=body.note,
                     audit_action="join_request", org_id=row.project.organization_id,
                     changes={"project": row.project.name, "email": row.user.email,
                              "role": body.role if body.approve else None})
    return row
