"""Image tables: the library (``Image``) and which node boots from which clone (``NodeImage``).

An image belongs to a project, or to nobody (public: every project may boot it). Its
bytes live in a backend (``backend`` names the driver, ``backend_ref`` where it keeps
them); a clone or snapshot names the image it shares blocks with as ``parent``, which
may not be removed while it has children.
"""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ocx.domain.baremetal.models import Node
from ocx.domain.identity.models import Project
from ocx.domain.images.states import ImageKind, ImageState, NodeImageState
from ocx.persistence.base import Base, IdMixin, TimestampMixin, str_enum

__all__ = ["Image", "NodeImage"]


class Image(IdMixin, TimestampMixin, Base):
    """A disk image in the library: golden (uploaded), a clone, or a node's snapshot."""

    __tablename__ = "images"
    __table_args__ = (
        # Names are unique per project, and among public images (NULL never equals NULL,
        # so two partial indexes rather than one constraint).
        Index("uq_images_project_name", "project_id", "name", unique=True,
              sqlite_where=text("project_id IS NOT NULL"),
              postgresql_where=text("project_id IS NOT NULL")),
        Index("uq_images_public_name", "name", unique=True,
              sqlite_where=text("project_id IS NULL"),
              postgresql_where=text("project_id IS NULL")),
    )

    # None: a public image, published by an operator.
    project_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("projects.id", ondelete="RESTRICT"), index=True, default=None)
    name: Mapped[str] = mapped_column(String(63))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[ImageKind] = mapped_column(str_enum(ImageKind, "image_kind"),
                                            default=ImageKind.GOLDEN)
    backend: Mapped[str] = mapped_column(String(63))
    backend_ref: Mapped[str | None] = mapped_column(String(255), default=None)
    # The uploaded file's format (raw or qcow2); clones and snapshots: the backend's.
    format: Mapped[str] = mapped_column(String(16), default="raw")
    size_bytes: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # The uploaded bytes' SHA-256, checked against the client's before anything is kept.
    checksum_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    state: Mapped[ImageState] = mapped_column(str_enum(ImageState, "image_state"),
                                              default=ImageState.UPLOADING)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    # NO ACTION rather than RESTRICT: checked at the end of the statement, so one DELETE
    # may remove an image together with its clones.
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("images.id"), index=True, default=None)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)

    project: Mapped[Project | None] = relationship()
    parent: Mapped[Image | None] = relationship(remote_side="Image.id")


class NodeImage(IdMixin, TimestampMixin, Base):
    """A node booting from a clone of an image ("map" in BMI): at most one per node.

    The boot path (provisioning) writes and clears these; the library reads them to
    refuse removing an image a node still uses.
    """

    __tablename__ = "node_images"

    node_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bm_nodes.id", ondelete="RESTRICT"), unique=True)
    image_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("images.id", ondelete="RESTRICT"), index=True)
    # The lessee project the clone was made for.
    project_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("projects.id", ondelete="SET NULL"), index=True, default=None)
    # Backend and place of the node's writable clone; None until it is made.
    backend: Mapped[str] = mapped_column(String(63))
    clone_ref: Mapped[str | None] = mapped_column(String(255), default=None)
    # The exporter's name for the clone, and where the node reaches it, once exported.
    export_name: Mapped[str | None] = mapped_column(String(100), default=None)
    export_uri: Mapped[str | None] = mapped_column(String(255), default=None)
    # On release, keep the node's disk as a snapshot image instead of deleting it.
    keep_snapshot: Mapped[bool] = mapped_column(default=False, server_default=false())
    state: Mapped[NodeImageState] = mapped_column(
        str_enum(NodeImageState, "node_image_state"), default=NodeImageState.PROVISIONING)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)

    node: Mapped[Node] = relationship()
    image: Mapped[Image] = relationship()
