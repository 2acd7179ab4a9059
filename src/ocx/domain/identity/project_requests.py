"""Project-creation requests: a user eligible to lead projects of an organization asks for
a new one; the organization's self-service policy approves it at once, or its admins (or
an operator) decide. Approval creates the project with the requester as its PI."""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from ocx.domain import policy
from ocx.domain.actor import SYSTEM, Actor
from ocx.domain.audit import service as audit
from ocx.domain.identity import decisions, eligibility, service
from ocx.domain.identity.models import Project, ProjectRole
from ocx.domain.identity.onboarding_models import ProjectRequest
from ocx.domain.identity.onboarding_schemas import Decision, ProjectRequestCreate
from ocx.domain.identity.onboarding_states import RequestState
from ocx.domain.identity.schemas import ProjectCreate
from ocx.domain.policy import Action, Target
from ocx.errors import Conflict, InvalidInput, NotFound
from ocx.persistence.pagination import Page, paginate

BY_POLICY = "approved by the organization's self-service policy"


def _target(row: ProjectRequest) -> Target:
    return Target(org_id=row.organization_id, owner_id=row.requested_by_id)


def create(session: Session, actor: Actor, body: ProjectRequestCreate) -> ProjectRequest:
    """Ask for a new project as its PI; approved at once where the organization allows.

    Raises:
        Forbidden: the requester is not eligible to lead projects of the organization.
        Conflict: the name is taken, or a request for it is waiting for a decision.
    """
    org = service.find_org(session, body.organization)
    policy.authorize(actor, Action.PROJECT_REQUEST_CREATE, Target(org_id=org.id))
    if actor.user_id is None:
        raise InvalidInput("only users can lead projects")
    user = service.find_user(session, actor.user_id)
    eligibility.require_pi_eligible(session, user, org)
    _check_name_free(session, org.id, body.name)
    row = ProjectRequest(organization_id=org.id, requested_by_id=user.id, name=body.name,
                         description=body.description, reason=body.reason)
    session.add(row)
    session.flush()
    audit.record(session, actor, "project_request.create", "project_request", row.id,
                 organization_id=org.id, changes=body.model_dump(exclude={"organization"}))
    if eligibility.policy_of(session, org.id).self_service_projects:
        _approve(session, SYSTEM, row, BY_POLICY)
    return row


def _check_name_free(session: Session, org_id: uuid.UUID, name: str) -> None:
    if session.scalar(select(Project.id).where(Project.organization_id == org_id,
                                               Project.name == name)) is not None:
        raise Conflict(f"the organization already has a project named {name}")
    if session.scalar(select(ProjectRequest.id).where(
            ProjectRequest.organization_id == org_id, ProjectRequest.name == name,
            ProjectRequest.state == RequestState.PENDING)) is not None:
        raise Conflict(f"a request for a project named {name} is waiting for a decision")


def _approve(session: Session, actor: Actor, row: ProjectRequest, note: str) -> None:
    """Create the project, make the requester its PI, and record the approval."""
    project = service.create_project(session, actor, ProjectCreate(
        name=row.name, organization=str(row.organization_id), description=row.description))
    service.enrol(session, actor, project, row.requested_by, ProjectRole.PI, None,
                  via="project request")
    row.project_id = project.id
    decisions.decide(session, actor, row, approve=True, note=note,
                     audit_action="project_request", org_id=row.organization_id,
                     changes={"name": row.name, "requested_by": row.requested_by.email})


def list_requests(session: Session, actor: Actor, *, cursor: str | None, limit: int,
                  state: RequestState | None = None) -> Page[ProjectRequest]:
    """One's own requests; admins also their organizations'; operators all."""
    policy.authorize(actor, Action.PROJECT_REQUEST_LIST)
    stmt = select(ProjectRequest).options(joinedload(ProjectRequest.organization),
                                          joinedload(ProjectRequest.requested_by))
    if (org_ids := policy.visible_user_scope(actor)) is not None:
        stmt = stmt.where(or_(ProjectRequest.requested_by_id == actor.user_id,
                              ProjectRequest.organization_id.in_(org_ids)))
    if state is not None:
        stmt = stmt.where(ProjectRequest.state == state)
    return paginate(session, stmt, ProjectRequest, cursor=cursor, limit=limit)


def get_request(session: Session, actor: Actor, row_id: uuid.UUID,
                action: Action = Action.PROJECT_REQUEST_READ) -> ProjectRequest:
    """One project request the actor may see (and take ``action`` on)."""
    row = session.get(ProjectRequest, row_id)
    if row is None:
        raise NotFound("project_request not found")
    policy.authorize(actor, action, _target(row))
    return row


def decide(session: Session, actor: Actor, row_id: uuid.UUID,
           body: Decision) -> ProjectRequest:
    """Approve (creating the project) or deny a pending request."""
    row = get_request(session, actor, row_id, Action.PROJECT_REQUEST_DECIDE)
    if body.approve and row.state is RequestState.PENDING:
        _check_name_taken_by_project(session, row)
        _approve(session, actor, row, body.note)
        return row
    decisions.decide(session, actor, row, approve=body.approve, note=body.note,
                     audit_action="project_request", org_id=row.organization_id,
                     changes={"name": row.name, "requested_by": row.requested_by.email})
    return row


def _check_name_taken_by_project(session: Session, row: ProjectRequest) -> None:
    if session.scalar(select(Project.id).where(Project.organization_id == row.organization_id,
                                               Project.name == row.name)) is not None:
        raise Conflict(f"a project named {row.name} was created meanwhile; deny this request")
