"""The audit trail."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from ocx.api.deps import ActorDep, PageDep, SessionDep, declares
from ocx.api.pages import PageOut, page_out
from ocx.domain.audit import service
from ocx.domain.audit.schemas import AuditEventPublic
from ocx.domain.policy import Action
from ocx.errors import InvalidInput

router = APIRouter(prefix="/audit", tags=["audit"])
ISO_TIME = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}"


def _zoned(name: str, text: str | None) -> datetime | None:
    """An ISO 8601 time with its zone, or an error naming the parameter."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{name}: not an ISO 8601 time: {text!r}") from None
    if value.utcoffset() is None:
        raise InvalidInput(f"{name}: give a time zone, e.g. 2026-11-01T00:00:00Z")
    return value


@router.get("", response_model=PageOut[AuditEventPublic], **declares(Action.AUDIT_LIST))
def list_audit_events(
    actor: ActorDep, session: SessionDep, page: PageDep,
    action: Annotated[str | None, Query(max_length=100)] = None,
    target_id: Annotated[str | None, Query(max_length=64)] = None,
    organization_id: uuid.UUID | None = None,
    order: Annotated[Literal["oldest", "newest"], Query(
        description="oldest first (default) or newest first")] = "oldest",
    actor_contains: Annotated[str | None, Query(
        alias="actor", max_length=320,
        description="only changes by actors whose label contains this (any case)")] = None,
    target_type: Annotated[str | None, Query(max_length=63, description=(
        "only changes to this kind of object, e.g. project or invoice"))] = None,
    since_text: Annotated[str | None, Query(
        alias="since", pattern=ISO_TIME, max_length=40,
        description="only changes at or after this time (ISO 8601, with its zone)")] = None,
    until_text: Annotated[str | None, Query(
        alias="until", pattern=ISO_TIME, max_length=40,
        description="only changes before this time (ISO 8601, with its zone)")] = None,
) -> PageOut[AuditEventPublic]:
    """Changes (operators: all; org admins: their organizations'), narrowed by action,
    target, actor and time range; the dashboard's audit search is the same query."""
    since, until = _zoned("since", since_text), _zoned("until", until_text)
    if since is not None and until is not None and until <= since:
        raise InvalidInput("until must come after since")
    search = service.AuditSearch(actor=actor_contains, target_type=target_type,
                                 since=since, until=until)
    found = service.list_events(session, actor, cursor=page.cursor, limit=page.limit,
                                action=action, target_id=target_id,
                                organization_id=organization_id,
                                newest_first=order == "newest", search=search)
    return page_out(found, AuditEventPublic.model_validate)
