"""Users."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from ocx.api.deps import ActorDep, PageDep, SessionDep, declares
from ocx.api.pages import PageOut, page_out
from ocx.domain.identity import schemas, service
from ocx.domain.policy import Action

router = APIRouter(prefix="/users", tags=["users"])
UserRef = Annotated[str, Path(max_length=320, description="user id, email, or 'me'")]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=schemas.UserPublic,
             **declares(Action.USER_CREATE))
def create_user(body: schemas.UserCreate, actor: ActorDep,
                session: SessionDep) -> schemas.UserPublic:
    """Create a user (operators; org admins within their organization)."""
    return schemas.UserPublic.model_validate(service.create_user(session, actor, body))


@router.get("", response_model=PageOut[schemas.UserPublic], **declares(Action.USER_LIST))
def list_users(
    actor: ActorDep, session: SessionDep, page: PageDep,
    email: Annotated[str | None, Query(max_length=320, description="email prefix")] = None,
) -> PageOut[schemas.UserPublic]:
    """Users you may see: operators all, org admins their organizations', others themself."""
    found = service.list_users(session, actor, cursor=page.cursor, limit=page.limit, email=email)
    return page_out(found, schemas.UserPublic.model_validate)


@router.get("/{user}", response_model=schemas.UserPublic, **declares(Action.USER_READ))
def show_user(user: UserRef, actor: ActorDep, session: SessionDep) -> schemas.UserPublic:
    """One user."""
    return schemas.UserPublic.model_validate(service.get_user(session, actor, user))


@router.patch("/{user}", response_model=schemas.UserPublic, **declares(Action.USER_UPDATE))
def update_user(user: UserRef, body: schemas.UserUpdate, actor: ActorDep,
                session: SessionDep) -> schemas.UserPublic:
    """Change a user's name or password; operators also (de)activate accounts."""
    return schemas.UserPublic.model_validate(service.update_user(session, actor, user, body))
