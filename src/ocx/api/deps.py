"""Typed dependencies shared by every route: runtime, session, actor, paging."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from ocx.config import Settings
from ocx.domain.actor import Actor
from ocx.domain.identity import onboarding, tokens
from ocx.domain.policy import Action
from ocx.logging import request_id_var
from ocx.runtime import Runtime

_bearer = HTTPBearer(auto_error=False, description="an OCX API token (ocx token create)")


def get_runtime(request: Request) -> Runtime:
    """The runtime the app was built with."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_settings(runtime: RuntimeDep) -> Settings:
    """The server's settings."""
    return runtime.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, else rolled back."""
    with runtime.sessions() as session, session.begin():
        yield session


# scope="function": commit before the response is sent, so a failed commit is an error
# response and never a success the client saw for a change that was lost.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def _declared_action(request: Request) -> str | None:
    """The policy action the matched route declares (``declares``), if any."""
    extra = getattr(request.scope.get("route"), "openapi_extra", None) or {}
    action = extra.get("x-ocx-action")
    return str(action) if action else None


def get_actor(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The authenticated caller; 401 without a valid token, 403 until they accept the
    terms of use in force (except to read and accept them, see who they are, and manage
    their own tokens)."""
    bearer = credentials.credentials if credentials else None
    actor = tokens.authenticate(session, bearer, request_id_var.get())
    onboarding.require_terms(session, actor, settings, _declared_action(request))
    return actor


ActorDep = Annotated[Actor, Depends(get_actor)]


class PageParams:
    """``?cursor=&limit=`` on every list endpoint."""

    def __init__(
        self,
        cursor: Annotated[str | None, Query(max_length=200,
                                            description="next_cursor of the previous page")] = None,
        limit: Annotated[int, Query(ge=1, le=500, description="page size")] = 50,
    ) -> None:
        self.cursor = cursor
        self.limit = limit


PageDep = Annotated[PageParams, Depends()]


def declares(action: Action) -> dict[str, Any]:
    """Route keyword arguments that record which policy action an endpoint takes."""
    return {"openapi_extra": {"x-ocx-action": action.value}}
