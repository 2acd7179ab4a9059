"""The audit trail."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from ocx.api.deps import ActorDep, PageDep, SessionDep, declares
from ocx.api.pages import PageOut, page_out
from ocx.domain.audit import service
from ocx.domain.identity.schemas import Public
from ocx.domain.policy import Action

router = APIRouter(prefix="/audit", tags=["audit"])


class AuditEventPublic(Public):
    id: uuid.UUID
    created_at: datetime
    actor_id: uuid.UUID | None
    actor: str
    action: str
    target_type: str
    target_id: str
    organization_id: uuid.UUID | None
    request_id: str
    changes: dict[str, Any]


@router.get("", response_model=PageOut[AuditEventPublic], **declares(Action.AUDIT_LIST))
def list_audit_events(
    actor: ActorDep, session: SessionDep, page: PageDep,
    action: Annotated[str | None, Query(max_length=100)] = None,
    target_id: Annotated[str | None, Query(max_length=64)] = None,
    organization_id: uuid.UUID | None = None,
) -> PageOut[AuditEventPublic]:
    """Changes, oldest first (operators: all; org admins: their organizations')."""
    found = service.list_events(session, actor, cursor=page.cursor, limit=page.limit,
                                action=action, target_id=target_id,
                                organization_id=organization_id)
    return page_out(found, AuditEventPublic.model_validate)
