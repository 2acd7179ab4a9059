"""API tokens: create (shown once), list, revoke."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from ocx.api.deps import ActorDep, PageDep, SessionDep, SettingsDep, declares
from ocx.api.pages import PageOut, page_out
from ocx.domain.identity import schemas, tokens
from ocx.domain.policy import Action

router = APIRouter(prefix="/tokens", tags=["tokens"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=schemas.TokenCreated,
             **declares(Action.TOKEN_CREATE))
def create_token(body: schemas.TokenCreate, actor: ActorDep, session: SessionDep,
                 settings: SettingsDep) -> schemas.TokenCreated:
    """Create an API token for yourself; the secret is in this response only.

    It expires after ``expires_in_days`` (server default otherwise), and never after
    the token used to create it."""
    token, secret = tokens.create(session, actor, body, settings.token_default_ttl_days,
                                  settings.token_max_ttl_days)
    public = schemas.TokenPublic.model_validate(token)
    return schemas.TokenCreated(token=secret, **public.model_dump())


@router.get("", response_model=PageOut[schemas.TokenPublic], **declares(Action.TOKEN_LIST))
def list_tokens(actor: ActorDep, session: SessionDep,
                page: PageDep) -> PageOut[schemas.TokenPublic]:
    """Your tokens (never their secrets)."""
    found = tokens.list_own(session, actor, cursor=page.cursor, limit=page.limit)
    return page_out(found, schemas.TokenPublic.model_validate)


@router.delete("/{token_id}", response_model=schemas.TokenPublic,
               **declares(Action.TOKEN_REVOKE))
def revoke_token(token_id: uuid.UUID, actor: ActorDep,
                 session: SessionDep) -> schemas.TokenPublic:
    """Revoke a token (yours; operators: anyone's)."""
    return schemas.TokenPublic.model_validate(tokens.revoke(session, actor, token_id))
