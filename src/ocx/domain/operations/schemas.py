"""API shapes for operations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from ocx.domain.identity.schemas import Public
from ocx.domain.operations.states import OperationState


class OperationPublic(Public):
    id: uuid.UUID
    kind: str
    target_type: str
    target_id: str
    state: OperationState
    attempts: int
    max_attempts: int
    last_error: str | None
    payload: dict[str, Any]
    result: dict[str, Any] | None
    requested_by: uuid.UUID | None
    request_id: str
    next_attempt_at: datetime
    claimed_by: str | None
    lease_expires_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime
    updated_at: datetime
