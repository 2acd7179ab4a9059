"""usage spans: provider, offering, user and rating attributes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 14:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("usage_spans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("provider_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("offering_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("user_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("attributes", sa.JSON(), nullable=False,
                                      server_default="{}"))
        batch_op.create_index(batch_op.f("ix_usage_spans_provider_id"), ["provider_id"])
        batch_op.create_index(batch_op.f("ix_usage_spans_offering_id"), ["offering_id"])
        batch_op.create_index(batch_op.f("ix_usage_spans_user_id"), ["user_id"])
        batch_op.create_foreign_key(batch_op.f("fk_usage_spans_provider_id_providers"),
                                    "providers", ["provider_id"], ["id"], ondelete="RESTRICT")
        batch_op.create_foreign_key(batch_op.f("fk_usage_spans_offering_id_offerings"),
                                    "offerings", ["offering_id"], ["id"], ondelete="RESTRICT")
        batch_op.create_foreign_key(batch_op.f("fk_usage_spans_user_id_users"),
                                    "users", ["user_id"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("usage_spans", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_usage_spans_user_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_usage_spans_offering_id_offerings"),
                                 type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_usage_spans_provider_id_providers"),
                                 type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_usage_spans_user_id"))
        batch_op.drop_index(batch_op.f("ix_usage_spans_offering_id"))
        batch_op.drop_index(batch_op.f("ix_usage_spans_provider_id"))
        batch_op.drop_column("attributes")
        batch_op.drop_column("user_id")
        batch_op.drop_column("offering_id")
        batch_op.drop_column("provider_id")
