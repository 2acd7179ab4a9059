"""Writing and reading the audit trail."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ocx.domain import policy
from ocx.domain.actor import Actor
from ocx.domain.audit.models import AuditEvent
from ocx.domain.policy import Action
from ocx.persistence.pagination import Page, paginate

# Field names whose values never reach the audit trail, whatever the caller passes.
SECRET_FIELDS = frozenset({"password", "password_hash", "token", "digest", "secret", "secret_key"})


def _scrub(changes: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in changes.items():
        if any(s in key.lower() for s in SECRET_FIELDS):
            clean[key] = "***"
        elif isinstance(value, datetime | uuid.UUID):
            clean[key] = str(value)
        elif isinstance(value, dict):
            clean[key] = _scrub(value)
        else:
            clean[key] = value
    return clean


@dataclass(frozen=True)
class AuditSearch:
    """More ways to narrow ``list_events``: who (part of the actor's label, any case),
    the target's type, and a time range [since, until)."""

    actor: str | None = None
    target_type: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def narrow(self, stmt: Select[tuple[AuditEvent]]) -> Select[tuple[AuditEvent]]:
        """``stmt`` with this search's conditions."""
        if self.actor:
            stmt = stmt.where(func.lower(AuditEvent.actor).contains(self.actor.lower(),
                                                                    autoescape=True))
        if self.target_type:
            stmt = stmt.where(AuditEvent.target_type == self.target_type)
        if self.since is not None:
            stmt = stmt.where(AuditEvent.created_at >= self.since)
        if self.until is not None:
            stmt = stmt.where(AuditEvent.created_at < self.until)
        return stmt


def record(
    session: Session,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: uuid.UUID | str,
    *,
    organization_id: uuid.UUID | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event in the caller's transaction (secrets are masked)."""
    event = AuditEvent(
        actor_id=actor.user_id,
        actor=actor.label,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        organization_id=organization_id,
        request_id=actor.request_id,
        changes=_scrub(changes or {}),
    )
    session.add(event)
    return event


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The fields that changed, as {field: {"from": old, "to": new}}."""
    return {
        key: {"from": before.get(key), "to": value}
        for key, value in after.items()
        if before.get(key) != value
    }


def list_events(
    session: Session,
    actor: Actor,
    *,
    cursor: str | None,
    limit: int,
    action: str | None = None,
    target_id: str | None = None,
    organization_id: uuid.UUID | None = None,
    newest_first: bool = False,
    search: AuditSearch | None = None,
) -> Page[AuditEvent]:
    """Audit events the actor may see: operators all, org admins their organizations'."""
    policy.authorize(actor, Action.AUDIT_LIST)
    stmt: Select[tuple[AuditEvent]] = select(AuditEvent)
    if (org_ids := policy.audit_scope(actor)) is not None:
        stmt = stmt.where(AuditEvent.organization_id.in_(org_ids))
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if target_id:
        stmt = stmt.where(AuditEvent.target_id == target_id)
    if organization_id:
        stmt = stmt.where(AuditEvent.organization_id == organization_id)
    if search is not None:
        stmt = search.narrow(stmt)
    return paginate(session, stmt, AuditEvent, cursor=cursor, limit=limit,
                    newest_first=newest_first)
