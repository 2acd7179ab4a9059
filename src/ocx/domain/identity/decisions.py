"""What every request someone decides has in common: pending until approved or denied once,
each decision recorded and audited."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from ocx.domain.actor import Actor
from ocx.domain.audit import service as audit
from ocx.domain.identity.onboarding_models import Decided
from ocx.domain.identity.onboarding_states import RequestState
from ocx.errors import Conflict
from ocx.persistence.base import utcnow


def decide(session: Session, actor: Actor, row: Decided, *, approve: bool, note: str,
           audit_action: str, org_id: uuid.UUID | None, changes: dict[str, Any]) -> None:
    """Record the decision on a pending request and audit ``<audit_action>.approve|deny``.

    Raises:
        Conflict: it was decided already.
    """
    if row.state is not RequestState.PENDING:
        raise Conflict(f"this request was already {row.state.value}")
    row.state = RequestState.APPROVED if approve else RequestState.DENIED
    row.decided_by_id, row.decided_at, row.note = actor.user_id, utcnow(), note
    verb = "approve" if approve else "deny"
    row_id = getattr(row, "id")  # noqa: B009 - the mixin itself has no id column
    session.flush()
    audit.record(session, actor, f"{audit_action}.{verb}", audit_action, row_id,
                 organization_id=org_id, changes={**changes, "note": note})


def reopen(row: Decided) -> None:
    """Make a denied request pending again (the requester asks once more)."""
    row.state, row.decided_by_id, row.decided_at, row.note = (
        RequestState.PENDING, None, None, "")
