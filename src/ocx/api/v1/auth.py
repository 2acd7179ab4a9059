"""Password login (local accounts) and who-am-I."""

from __future__ import annotations

from fastapi import APIRouter, status

from ocx.api.deps import ActorDep, SessionDep, SettingsDep
from ocx.domain.identity import schemas, service, tokens
from ocx.logging import request_id_var

router = APIRouter(tags=["auth"])


@router.post("/auth/login", response_model=schemas.TokenCreated,
             status_code=status.HTTP_201_CREATED)
def login(body: schemas.LoginRequest, session: SessionDep,
          settings: SettingsDep) -> schemas.TokenCreated:
    """Exchange a local account's email and password for an API token (shown once)."""
    token, secret = tokens.login(session, body.email, body.password, body.token_name,
                                 settings.token_default_ttl_days, request_id_var.get())
    return schemas.TokenCreated(token=secret, **schemas.TokenPublic.model_validate(
        token).model_dump())


@router.get("/me", response_model=schemas.Me)
def me(actor: ActorDep, session: SessionDep) -> schemas.Me:
    """The caller, with their organizations and projects and the role in each."""
    return service.describe_me(session, actor)
