"""API shapes for the audit trail (free of SQLAlchemy, so the client can share them)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEventPublic(BaseModel):
    """One recorded change."""

    model_config = ConfigDict(from_attributes=True)

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
