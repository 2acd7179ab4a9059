"""usage spans: drop the indexes no query uses (each one slows every span written)

``allocation_id``, ``resource_id`` and ``created_at`` of ``usage_spans`` are neither
searched nor sorted on by any query, nor referenced by a foreign key; ingestion writes
hundreds of thousands of spans a month and paid for each of them. The indexes backing
foreign keys (project, provider, offering, user) stay: deleting those rows needs them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-21 16:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROPPED = {"ix_usage_spans_allocation_id": "allocation_id",
           "ix_usage_spans_resource_id": "resource_id",
           "ix_usage_spans_created_at": "created_at"}


def upgrade() -> None:
    for name in DROPPED:
        op.drop_index(name, table_name="usage_spans")


def downgrade() -> None:
    for name, column in DROPPED.items():
        op.create_index(name, "usage_spans", [column], unique=False)
