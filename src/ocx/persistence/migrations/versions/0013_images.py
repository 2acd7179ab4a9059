"""images: the image library (golden images, clones, snapshots) and node disks

An image belongs to a project or is public (no project); names are unique per project
and among public images (two partial unique indexes). ``node_images`` maps a node to
the clone it boots from.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-21 17:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ocx.persistence.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = ocx.persistence.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table("images",
    sa.Column("project_id", sa.Uuid(), nullable=True),
    sa.Column("name", sa.String(length=63), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("kind", sa.Enum("golden", "clone", "snapshot", name="image_kind", native_enum=False, length=16), nullable=False),
    sa.Column("backend", sa.String(length=63), nullable=False),
    sa.Column("backend_ref", sa.String(length=255), nullable=True),
    sa.Column("format", sa.String(length=16), nullable=False),
    sa.Column("size_bytes", sa.BigInteger(), nullable=True),
    sa.Column("checksum_sha256", sa.String(length=64), nullable=True),
    sa.Column("state", sa.Enum("uploading", "creating", "available", "deleting", "error", name="image_state", native_enum=False, length=16), nullable=False),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("parent_id", sa.Uuid(), nullable=True),
    sa.Column("created_by", sa.Uuid(), nullable=True),
    sa.Column("id", sa.Uuid(), nullable=False),
    sa.Column("created_at", UTC_TIME, nullable=False),
    sa.Column("updated_at", UTC_TIME, nullable=False),
    sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_images_created_by_users"), ondelete="SET NULL"),
    sa.ForeignKeyConstraint(["parent_id"], ["images.id"], name=op.f("fk_images_parent_id_images")),
    sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_images_project_id_projects"), ondelete="RESTRICT"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_images"))
    )
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_images_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_images_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_images_project_id"), ["project_id"], unique=False)
        batch_op.create_index("uq_images_project_name", ["project_id", "name"], unique=True, sqlite_where=sa.text("project_id IS NOT NULL"), postgresql_where=sa.text("project_id IS NOT NULL"))
        batch_op.create_index("uq_images_public_name", ["name"], unique=True, sqlite_where=sa.text("project_id IS NULL"), postgresql_where=sa.text("project_id IS NULL"))

    op.create_table("node_images",
    sa.Column("node_id", sa.Uuid(), nullable=False),
    sa.Column("image_id", sa.Uuid(), nullable=False),
    sa.Column("project_id", sa.Uuid(), nullable=True),
    sa.Column("backend", sa.String(length=63), nullable=False),
    sa.Column("clone_ref", sa.String(length=255), nullable=True),
    sa.Column("export_name", sa.String(length=100), nullable=True),
    sa.Column("export_uri", sa.String(length=255), nullable=True),
    sa.Column("keep_snapshot", sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column("state", sa.Enum("provisioning", "active", "releasing", "failed", name="node_image_state", native_enum=False, length=16), nullable=False),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("created_by", sa.Uuid(), nullable=True),
    sa.Column("id", sa.Uuid(), nullable=False),
    sa.Column("created_at", UTC_TIME, nullable=False),
    sa.Column("updated_at", UTC_TIME, nullable=False),
    sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_node_images_created_by_users"), ondelete="SET NULL"),
    sa.ForeignKeyConstraint(["image_id"], ["images.id"], name=op.f("fk_node_images_image_id_images"), ondelete="RESTRICT"),
    sa.ForeignKeyConstraint(["node_id"], ["bm_nodes.id"], name=op.f("fk_node_images_node_id_bm_nodes"), ondelete="RESTRICT"),
    sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_node_images_project_id_projects"), ondelete="SET NULL"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_node_images")),
    sa.UniqueConstraint("node_id", name=op.f("uq_node_images_node_id"))
    )
    with op.batch_alter_table("node_images", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_node_images_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_node_images_image_id"), ["image_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_node_images_project_id"), ["project_id"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("node_images", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_node_images_project_id"))
        batch_op.drop_index(batch_op.f("ix_node_images_image_id"))
        batch_op.drop_index(batch_op.f("ix_node_images_created_at"))

    op.drop_table("node_images")
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.drop_index("uq_images_public_name", sqlite_where=sa.text("project_id IS NULL"), postgresql_where=sa.text("project_id IS NULL"))
        batch_op.drop_index("uq_images_project_name", sqlite_where=sa.text("project_id IS NOT NULL"), postgresql_where=sa.text("project_id IS NOT NULL"))
        batch_op.drop_index(batch_op.f("ix_images_project_id"))
        batch_op.drop_index(batch_op.f("ix_images_parent_id"))
        batch_op.drop_index(batch_op.f("ix_images_created_at"))

    op.drop_table("images")
