"""The audit trail."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from ocx.api.deps import ActorDep, PageDep, SessionDep, declares
from ocx.api.pages import PageOut, page_out
from ocx.domain.audit import service
from ocx.domain.audit.schemas import AuditEventPublic
from ocx.domain.policy import Action

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=PageOut[AuditEventPublic], **declares(Action.AUDIT_LIST))
def list_audit_events(
    actor: ActorDep, session: SessionDep, page: PageDep,
    action: Annotated[str | None, Query(max_length=100)] = None,
    target_id: Annotated[str | None, Query(max_length=64)] = None,
    organization_id: uuid.UUID | None = None,
    order: Annotated[Literal["oldest", "newest"], Query(
        description="oldest first (default) or newest first")] = "oldest",
) -> PageOut[AuditEventPublic]:
    """Changes (operators: all; org admins: their organizations')."""
    found = service.list_events(session, actor, cursor=page.cursor, limit=page.limit,
                                action=action, target_id=target_id,
                                organization_id=organization_id,
                                newest_first=order == "newest")
    return page_out(found, AuditEventPublic.model_validate)
