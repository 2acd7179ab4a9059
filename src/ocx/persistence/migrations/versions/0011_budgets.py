"""budgets: a project's monthly budget and the thresholds that notify its PI

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-21 16:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ocx.persistence.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = ocx.persistence.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table("budgets",
    sa.Column("project_id", sa.Uuid(), nullable=False),
    sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column("currency", sa.String(length=3), nullable=False),
    sa.Column("thresholds", sa.JSON(), nullable=False),
    sa.Column("id", sa.Uuid(), nullable=False),
    sa.Column("created_at", UTC_TIME, nullable=False),
    sa.Column("updated_at", UTC_TIME, nullable=False),
    sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_budgets_project_id_projects"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_budgets")),
    sa.UniqueConstraint("project_id", name=op.f("uq_budgets_project_id"))
    )
    with op.batch_alter_table("budgets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_budgets_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("budgets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_budgets_created_at"))

    op.drop_table("budgets")
