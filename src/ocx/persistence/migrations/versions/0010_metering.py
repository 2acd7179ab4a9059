"""metering: collector cursors, open intervals of live resources, ingested events

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21 14:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ocx.persistence.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = ocx.persistence.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table("usage_cursors",
    sa.Column("provider_id", sa.Uuid(), nullable=False),
    sa.Column("offering_id", sa.Uuid(), nullable=False),
    sa.Column("position", sa.JSON(), nullable=False),
    sa.Column("collected_until", UTC_TIME, nullable=True),
    sa.Column("id", sa.Uuid(), nullable=False),
    sa.Column("created_at", UTC_TIME, nullable=False),
    sa.Column("updated_at", UTC_TIME, nullable=False),
    sa.ForeignKeyConstraint(["offering_id"], ["offerings.id"], name=op.f("fk_usage_cursors_offering_id_offerings"), ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["provider_id"], ["providers.id"], name=op.f("fk_usage_cursors_provider_id_providers"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_cursors")),
    sa.UniqueConstraint("provider_id", "offering_id", name=op.f("uq_usage_cursors_provider_id_offering_id"))
    )
    with op.batch_alter_table("usage_cursors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_usage_cursors_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_usage_cursors_offering_id"), ["offering_id"], unique=False)

    op.create_table("usage_open_intervals",
    sa.Column("provider_id", sa.Uuid(), nullable=False),
    sa.Column("offering_id", sa.Uuid(), nullable=False),
    sa.Column("project_id", sa.Uuid(), nullable=False),
    sa.Column("allocation_id", sa.Uuid(), nullable=True),
    sa.Column("resource_kind", sa.String(length=63), nullable=False),
    sa.Column("resource_id", sa.String(length=64), nullable=False),
    sa.Column("attributes", sa.JSON(), nullable=False),
    sa.Column("since", UTC_TIME, nullable=False),
    sa.Column("last_event_id", sa.String(length=200), nullable=False),
    sa.Column("id", sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(["offering_id"], ["offerings.id"], name=op.f("fk_usage_open_intervals_offering_id_offerings"), ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_usage_open_intervals_project_id_projects"), ondelete="RESTRICT"),
    sa.ForeignKeyConstraint(["provider_id"], ["providers.id"], name=op.f("fk_usage_open_intervals_provider_id_providers"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_open_intervals")),
    sa.UniqueConstraint("provider_id", "resource_kind", "resource_id", name=op.f("uq_usage_open_intervals_provider_id_resource_kind_resource_id"))
    )
    with op.batch_alter_table("usage_open_intervals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_usage_open_intervals_offering_id"), ["offering_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_usage_open_intervals_project_id"), ["project_id"], unique=False)

    op.create_table("usage_events",
    sa.Column("source_event_id", sa.String(length=200), nullable=False),
    sa.Column("at", UTC_TIME, nullable=False),
    sa.PrimaryKeyConstraint("source_event_id", name=op.f("pk_usage_events"))
    )
    with op.batch_alter_table("usage_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_usage_events_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("usage_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_events_at"))
    op.drop_table("usage_events")
    with op.batch_alter_table("usage_open_intervals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_open_intervals_project_id"))
        batch_op.drop_index(batch_op.f("ix_usage_open_intervals_offering_id"))
    op.drop_table("usage_open_intervals")
    with op.batch_alter_table("usage_cursors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_cursors_offering_id"))
        batch_op.drop_index(batch_op.f("ix_usage_cursors_created_at"))
    op.drop_table("usage_cursors")
