"""Join requests: ask to join a project; its PI or a manager decides (``ocx join-request``)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from ocx.api.deps import ActorDep, PageDep, SessionDep, declares
from ocx.api.pages import PageOut, page_out
from ocx.api.v1.onboarding_views import join_request_view
from ocx.api.v1.projects import ProjectRef
from ocx.domain.identity import join_requests
from ocx.domain.identity.onboarding_schemas import (
    JoinDecision,
    JoinRequestCreate,
    JoinRequestPublic,
)
from ocx.domain.identity.onboarding_states import RequestState
from ocx.domain.policy import Action

router = APIRouter(tags=["onboarding"])


@router.post("/projects/{project}/join-requests", status_code=status.HTTP_201_CREATED,
             response_model=JoinRequestPublic, **declares(Action.JOIN_REQUEST_CREATE))
def create_join_request(project: ProjectRef, body: JoinRequestCreate, actor: ActorDep,
                        session: SessionDep) -> JoinRequestPublic:
    """Ask to join a project of an organization you belong to."""
    return join_request_view(join_requests.create(session, actor, project, body))


@router.get("/join-requests", response_model=PageOut[JoinRequestPublic],
            **declares(Action.JOIN_REQUEST_LIST))
def list_join_requests(actor: ActorDep, session: SessionDep, page: PageDep,
                       state: Annotated[RequestState | None, Query()] = None,
                       ) -> PageOut[JoinRequestPublic]:
    """Your join requests and those you may decide (PIs, managers, org admins)."""
    found = join_requests.list_requests(session, actor, cursor=page.cursor, limit=page.limit,
                                        state=state)
    return page_out(found, join_request_view)


@router.get("/join-requests/{join_request}", response_model=JoinRequestPublic,
            **declares(Action.JOIN_REQUEST_READ))
def show_join_request(join_request: uuid.UUID, actor: ActorDep,
                      session: SessionDep) -> JoinRequestPublic:
    """One join request."""
    return join_request_view(join_requests.get_request(session, actor, join_request))


@router.post("/join-requests/{join_request}/decision", response_model=JoinRequestPublic,
             **declares(Action.JOIN_REQUEST_DECIDE))
def decide_join_request(join_request: uuid.UUID, body: JoinDecision, actor: ActorDep,
                        session: SessionDep) -> JoinRequestPublic:
    """Approve (the requester joins with ``role``) or deny a pending join request."""
    return join_request_view(join_requests.decide(session, actor, join_request, body))
