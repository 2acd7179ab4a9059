"""Requests and answers of diskless provisioning (free of SQLAlchemy: the client imports them)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from ocx.domain.images.states import NodeImageState


class ProvisionRequest(BaseModel):
    """Boot a node from a fresh copy-on-write clone of an image."""

    image: str = Field(min_length=1, max_length=200, description="image id, name or PROJECT/NAME")
    keep_snapshot: bool = Field(
        default=False, description="at release, keep the node's disk as a snapshot image")


class UnprovisionRequest(BaseModel):
    """Power the node off and give its disk back."""

    keep_snapshot: bool | None = Field(
        default=None, description="override the choice made at provisioning")


class NodeDiskPublic(BaseModel):
    """What a node boots from now."""

    node: str
    image: str
    image_id: uuid.UUID
    state: NodeImageState
    export_uri: str | None
    error: str | None
    keep_snapshot: bool
