"""Image states, free of SQLAlchemy so that the CLI and the client import them cheaply."""

from __future__ import annotations

from enum import StrEnum


class ImageKind(StrEnum):
    """How an image came to be: uploaded, cloned from another, or a node's disk frozen."""

    GOLDEN = "golden"
    CLONE = "clone"
    SNAPSHOT = "snapshot"


class ImageState(StrEnum):
    """uploading (checked bytes being stored) or creating (a clone or snapshot being
    made) → available → deleting → (gone); → error when the backend refuses it."""

    UPLOADING = "uploading"
    CREATING = "creating"
    AVAILABLE = "available"
    DELETING = "deleting"
    ERROR = "error"


class NodeImageState(StrEnum):
    """A node's disk: provisioning (clone, export, boot) → active → releasing → (gone);
    failed when a step fails for good (nothing left exported)."""

    PROVISIONING = "provisioning"
    ACTIVE = "active"
    RELEASING = "releasing"
    FAILED = "failed"


# Node disks that hold their image (it may not be removed meanwhile).
IN_USE = (NodeImageState.PROVISIONING, NodeImageState.ACTIVE, NodeImageState.RELEASING)
