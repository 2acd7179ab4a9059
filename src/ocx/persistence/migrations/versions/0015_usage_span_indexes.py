"""usage spans: one time index instead of four owner indexes; the ledger shrinks

Every span written paid for five secondary indexes (project, provider, offering, user,
source event), about two thirds of the cost of inserting it. Queries read spans by time
(a month to rate, a window to de-duplicate) and then by owner, so one index on
``ended_at`` replaces the project, provider and offering ones; ``user_id`` stays indexed
only where it is set (ingested spans have no user: their index entries cost nothing).
The foreign keys are unchanged; deleting a project, provider or offering now scans the
spans to check none refers to it (rare operations, refused anyway when usage exists).

The event ledger (``usage_events``) from now on records only the events that close no
span; the others are known by their span's unique ``source_event_id``.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-21 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROPPED = {"ix_usage_spans_project_id": "project_id",
           "ix_usage_spans_provider_id": "provider_id",
           "ix_usage_spans_offering_id": "offering_id",
           "ix_usage_spans_user_id": "user_id"}
WITH_USER = sa.text("user_id IS NOT NULL")


def upgrade() -> None:
    for name in DROPPED:
        op.drop_index(name, table_name="usage_spans")
    op.create_index("ix_usage_spans_ended_at", "usage_spans", ["ended_at"], unique=False)
    op.create_index("ix_usage_spans_user_id", "usage_spans", ["user_id"], unique=False,
                    sqlite_where=WITH_USER, postgresql_where=WITH_USER)


def downgrade() -> None:
    op.drop_index("ix_usage_spans_user_id", table_name="usage_spans")
    op.drop_index("ix_usage_spans_ended_at", table_name="usage_spans")
    for name, column in DROPPED.items():
        op.create_index(name, "usage_spans", [column], unique=False)
