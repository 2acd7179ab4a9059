"""API shapes for images, named by role: XCreate, XPublic (no SQLAlchemy)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from ocx.domain.identity.schemas import LongText, Public, Slug, Strict
from ocx.domain.images.states import ImageKind, ImageState, NodeImageState

Ref = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Sha256 = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True,
                                          pattern=r"^[0-9a-fA-F]{64}$")]
BackendName = Annotated[str, StringConstraints(min_length=1, max_length=63,
                                               pattern=r"^[a-z0-9_-]+$")]


class ImageUpload(Strict):
    """What an upload says about its bytes (sent as query parameters beside the body)."""

    name: Slug
    project: Ref | None = Field(default=None, description="owner project; none: public")
    sha256: Sha256 = Field(description="the SHA-256 of the bytes sent, checked on arrival")
    description: LongText = ""
    backend: BackendName | None = Field(default=None, description="default: the server's")


class ImageClone(Strict):
    source: Ref = Field(description="the image to clone: id, PROJECT/NAME or NAME")
    name: Slug
    project: Ref = Field(description="the project the clone belongs to")
    description: LongText = ""


class ImageSnapshot(Strict):
    node: Ref = Field(description="the node whose disk (its clone) is frozen")
    name: Slug
    project: Ref | None = Field(default=None,
                                description="default: the project the node's disk was made for")
    description: LongText = ""


class ImagePublic(Public):
    id: uuid.UUID
    name: str
    project: str | None = Field(description="ORG:PROJECT, or none for a public image")
    project_id: uuid.UUID | None
    public: bool
    kind: ImageKind
    state: ImageState
    backend: str
    format: str = Field(description="how the backend keeps it: qcow2 or rbd")
    size_bytes: int | None = Field(description="virtual size: the disk a node sees")
    checksum_sha256: str | None
    parent_id: uuid.UUID | None
    parent: str | None
    description: str
    error: str | None
    in_use_by: list[str] = Field(description="nodes booting from a clone of it")
    operation_id: uuid.UUID | None = Field(
        default=None, description="the operation storing, cloning or deleting it")
    created_at: datetime


class NodeImagePublic(Public):
    id: uuid.UUID
    node_id: uuid.UUID
    image_id: uuid.UUID
    project_id: uuid.UUID | None
    backend: str
    clone_ref: str | None
    export_uri: str | None
    state: NodeImageState
    error: str | None
    created_at: datetime
