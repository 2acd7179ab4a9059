"""offerings: how many renewals, and how long a term, an auto-approving offering grants

Until now every auto-approving offering renewed an allocation at most twice and up to
366 days after its start (constants in the allocations service). These become the
offering's own settings, with the old bounds as their defaults.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-21 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("offerings") as batch:
        batch.add_column(sa.Column("auto_renewals", sa.Integer(), nullable=False,
                                   server_default="2"))
        batch.add_column(sa.Column("auto_term_days", sa.Integer(), nullable=False,
                                   server_default="366"))


def downgrade() -> None:
    with op.batch_alter_table("offerings") as batch:
        batch.drop_column("auto_term_days")
        batch.drop_column("auto_renewals")
