"""Invitations into a project by single-use, expiring links (``ocx invitation``)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from ocx.api.deps import ActorDep, PageDep, RuntimeDep, SessionDep, declares
from ocx.api.pages import PageOut, page_out
from ocx.api.v1.onboarding_views import invitation_view
from ocx.api.v1.projects import ProjectRef, _member
from ocx.domain.identity import invitations
from ocx.domain.identity.onboarding_schemas import (
    InvitationAccept,
    InvitationCreate,
    InvitationPublic,
)
from ocx.domain.identity.schemas import MembershipPublic
from ocx.domain.policy import Action

router = APIRouter(tags=["onboarding"])


@router.post("/projects/{project}/invitations", status_code=status.HTTP_201_CREATED,
             response_model=InvitationPublic, **declares(Action.INVITATION_CREATE))
def create_invitation(project: ProjectRef, body: InvitationCreate, actor: ActorDep,
                      session: SessionDep, runtime: RuntimeDep) -> InvitationPublic:
    """Invite an email address into the project; the link is mailed to it, never shown."""
    row = invitations.create(session, actor, project, body, runtime.sealer,
                             runtime.settings.public_url)
    return invitation_view(row)


@router.get("/projects/{project}/invitations", response_model=PageOut[InvitationPublic],
            **declares(Action.INVITATION_LIST))
def list_invitations(project: ProjectRef, actor: ActorDep, session: SessionDep,
                     page: PageDep) -> PageOut[InvitationPublic]:
    """The project's invitations: pending, accepted, revoked or expired."""
    found = invitations.list_for_project(session, actor, project, cursor=page.cursor,
                                         limit=page.limit)
    return page_out(found, invitation_view)


@router.delete("/projects/{project}/invitations/{invitation}", response_model=InvitationPublic,
               **declares(Action.INVITATION_REVOKE))
def revoke_invitation(project: ProjectRef, invitation: uuid.UUID, actor: ActorDep,
                      session: SessionDep) -> InvitationPublic:
    """Revoke a pending invitation; its link stops working at once."""
    return invitation_view(invitations.revoke(session, actor, project, invitation))


@router.post("/invitations/accept", status_code=status.HTTP_201_CREATED,
             response_model=MembershipPublic, **declares(Action.INVITATION_ACCEPT))
def accept_invitation(body: InvitationAccept, actor: ActorDep,
                      session: SessionDep) -> MembershipPublic:
    """Accept an invitation sent to your address: you join the project (once per link)."""
    return _member(invitations.accept(session, actor, body.token))
