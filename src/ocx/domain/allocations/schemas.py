"""API shapes for allocations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints, model_validator

from ocx.domain.allocations.states import AllocationState, ChangeKind, ChangeState
from ocx.domain.identity.schemas import LongText, Public, Strict, UtcDatetime
from ocx.domain.marketplace.schemas import ComponentName

Quota = dict[ComponentName, Annotated[int, Field(ge=0, le=10**12)]]
Ref = Annotated[str, StringConstraints(min_length=1, max_length=130)]


class AllocationRequest(Strict):
    project: Ref = Field(description="project id, name, or ORG:NAME")
    offering: Ref = Field(description="offering id, name, or PROVIDER:NAME")
    plan: Ref | None = Field(default=None, description="plan name or id (the only one if "
                                                       "the offering has one)")
    quota: Quota = Field(default_factory=dict, description="component -> limit; components "
                                                           "left out get the offering's default")
    ends_at: UtcDatetime | None = Field(default=None, description="when the allocation ends")
    justification: LongText = ""


class Decision(Strict):
    reason: LongText = ""


class ChangeRequest(Strict):
    quota: Quota | None = Field(default=None, description="new limits (up or down)")
    ends_at: UtcDatetime | None = Field(default=None, description="renew until this time")
    justification: LongText = ""

    @model_validator(mode="after")
    def _one_kind(self) -> ChangeRequest:
        if (self.quota is None) == (self.ends_at is None):
            raise ValueError("ask for either a new quota or a new end (ends_at), not both")
        return self

    @property
    def kind(self) -> ChangeKind:
        """Quota change or renewal."""
        return ChangeKind.QUOTA if self.quota is not None else ChangeKind.RENEWAL


class AllocationPublic(Public):
    id: uuid.UUID
    project_id: uuid.UUID
    project: str
    offering_id: uuid.UUID
    offering: str
    plan_id: uuid.UUID | None
    state: AllocationState
    quota: dict[str, int]
    starts_at: datetime
    ends_at: datetime | None
    external_id: str | None
    status_message: str
    observed: dict[str, Any]
    observed_at: datetime | None
    decided_at: datetime | None
    created_at: datetime
    operation_id: uuid.UUID | None = Field(
        default=None, description="the operation applying the latest change, if one was made")


class ChangePublic(Public):
    id: uuid.UUID
    allocation_id: uuid.UUID
    kind: ChangeKind
    state: ChangeState
    quota: dict[str, int]
    ends_at: datetime | None
    justification: str
    automatic: bool = Field(description="approved by the offering's policy, not a person")
    note: str = Field(description="why it was decided, or left to the provider, as it was")
    decided_at: datetime | None
    created_at: datetime


class CredentialsPublic(Strict):
    """Credentials issued to the caller: shown once, then gone from OCX."""

    credential_id: str
    files: dict[str, str]
    hints: dict[str, str]
    expires_at: datetime | None
