"""Project-creation requests (``ocx project request``)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from ocx.api.deps import ActorDep, PageDep, SessionDep, declares
from ocx.api.pages import PageOut, page_out
from ocx.api.v1.onboarding_views import project_request_view
from ocx.domain.identity import project_requests
from ocx.domain.identity.onboarding_schemas import (
    Decision,
    ProjectRequestCreate,
    ProjectRequestPublic,
)
from ocx.domain.identity.onboarding_states import RequestState
from ocx.domain.policy import Action

router = APIRouter(prefix="/project-requests", tags=["onboarding"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ProjectRequestPublic,
             **declares(Action.PROJECT_REQUEST_CREATE))
def create_project_request(body: ProjectRequestCreate, actor: ActorDep,
                           session: SessionDep) -> ProjectRequestPublic:
    """Ask for a new project that you will lead as its PI (eligible PIs only); approved at
    once where the organization allows self-service."""
    return project_request_view(project_requests.create(session, actor, body))


@router.get("", response_model=PageOut[ProjectRequestPublic],
            **declares(Action.PROJECT_REQUEST_LIST))
def list_project_requests(actor: ActorDep, session: SessionDep, page: PageDep,
                          state: Annotated[RequestState | None, Query()] = None,
                          ) -> PageOut[ProjectRequestPublic]:
    """Your project requests; org admins also their organizations'; operators all."""
    found = project_requests.list_requests(session, actor, cursor=page.cursor,
                                           limit=page.limit, state=state)
    return page_out(found, project_request_view)


@router.get("/{project_request}", response_model=ProjectRequestPublic,
            **declares(Action.PROJECT_REQUEST_READ))
def show_project_request(project_request: uuid.UUID, actor: ActorDep,
                         session: SessionDep) -> ProjectRequestPublic:
    """One project request."""
    return project_request_view(
        project_requests.get_request(session, actor, project_request))


@router.post("/{project_request}/decision", response_model=ProjectRequestPublic,
             **declares(Action.PROJECT_REQUEST_DECIDE))
def decide_project_request(project_request: uuid.UUID, body: Decision, actor: ActorDep,
                           session: SessionDep) -> ProjectRequestPublic:
    """Approve (creating the project, the requester its PI) or deny a pending request."""
    return project_request_view(
        project_requests.decide(session, actor, project_request, body))
