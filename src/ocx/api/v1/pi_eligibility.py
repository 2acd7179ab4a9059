"""PI eligibility: who may lead projects of an organization (``ocx pi-eligibility``)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from ocx.api.deps import ActorDep, PageDep, SessionDep, declares
from ocx.api.pages import PageOut, page_out
from ocx.api.v1.onboarding_views import eligibility_view
from ocx.domain.identity import eligibility as service
from ocx.domain.identity.onboarding_schemas import (
    Decision,
    PiEligibilityCreate,
    PiEligibilityPublic,
)
from ocx.domain.identity.onboarding_states import RequestState
from ocx.domain.policy import Action

router = APIRouter(prefix="/pi-eligibility", tags=["onboarding"])
RowId = uuid.UUID


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PiEligibilityPublic,
             **declares(Action.PI_ELIGIBILITY_REQUEST))
def request_eligibility(body: PiEligibilityCreate, actor: ActorDep,
                        session: SessionDep) -> PiEligibilityPublic:
    """Ask to become eligible to lead projects (be a PI) of an organization you belong to."""
    return eligibility_view(service.request(session, actor, body))


@router.get("", response_model=PageOut[PiEligibilityPublic],
            **declares(Action.PI_ELIGIBILITY_LIST))
def list_eligibility(actor: ActorDep, session: SessionDep, page: PageDep,
                     state: Annotated[RequestState | None, Query()] = None,
                     ) -> PageOut[PiEligibilityPublic]:
    """Your eligibility; org admins also their organizations' people; operators all."""
    found = service.list_eligibility(session, actor, cursor=page.cursor, limit=page.limit,
                                         state=state)
    return page_out(found, eligibility_view)


@router.get("/{eligibility}", response_model=PiEligibilityPublic,
            **declares(Action.PI_ELIGIBILITY_READ))
def show_eligibility(eligibility: RowId, actor: ActorDep,
                     session: SessionDep) -> PiEligibilityPublic:
    """One eligibility record or request."""
    return eligibility_view(service.get_eligibility(session, actor, eligibility))


@router.post("/{eligibility}/decision", response_model=PiEligibilityPublic,
             **declares(Action.PI_ELIGIBILITY_DECIDE))
def decide_eligibility(eligibility: RowId, body: Decision, actor: ActorDep,
                       session: SessionDep) -> PiEligibilityPublic:
    """Approve or deny a pending request (operators, the organization's admins)."""
    return eligibility_view(service.decide(session, actor, eligibility, body))


@router.delete("/{eligibility}", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response, **declares(Action.PI_ELIGIBILITY_REVOKE))
def revoke_eligibility(eligibility: RowId, actor: ActorDep, session: SessionDep) -> None:
    """Withdraw someone's eligibility; projects they already lead stay theirs."""
    service.revoke(session, actor, eligibility)
