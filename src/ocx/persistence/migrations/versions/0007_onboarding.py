"""onboarding: invitations, join requests, PI eligibility, project requests, onboarding policies

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 14:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import SchemaItem

from ocx.persistence.base import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATE = sa.Enum("pending", "approved", "denied", name="request_state", native_enum=False,
                length=16)


def _common(table: str) -> list[SchemaItem]:
    """The id and timestamp columns every OCX table has."""
    return [sa.Column("id", sa.Uuid(), nullable=False),
            sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
            sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}"))]


def _decided(table: str) -> list[SchemaItem]:
    """The columns of a request someone decides."""
    return [sa.Column("state", STATE, nullable=False),
            sa.Column("decided_by_id", sa.Uuid(), nullable=True),
            sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
            sa.Column("note", sa.Text(), nullable=False),
            sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"],
                                    name=op.f(f"fk_{table}_decided_by_id_users"),
                                    ondelete="SET NULL")]


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"],
                                   name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete)


def _indexes(table: str, *columns: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in ("created_at", *columns):
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "onboarding_policies",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("pi_affiliations", sa.JSON(), nullable=False),
        sa.Column("self_service_projects", sa.Boolean(), nullable=False),
        *_common("onboarding_policies"),
        _fk("onboarding_policies", "organization_id", "organizations", "CASCADE"),
        sa.UniqueConstraint("organization_id",
                            name=op.f("uq_onboarding_policies_organization_id")))
    _indexes("onboarding_policies")
    op.create_table(
        "pi_eligibilities",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.Enum("affiliation", "request", name="eligibility_source",
                                    native_enum=False, length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        *_decided("pi_eligibilities"), *_common("pi_eligibilities"),
        _fk("pi_eligibilities", "organization_id", "organizations", "CASCADE"),
        _fk("pi_eligibilities", "user_id", "users", "CASCADE"),
        sa.UniqueConstraint("user_id", "organization_id",
                            name=op.f("uq_pi_eligibilities_user_id_organization_id")))
    _indexes("pi_eligibilities", "organization_id", "state", "user_id")
    op.create_table(
        "invitations",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.Enum("pi", "manager", "member", name="project_role",
                                  native_enum=False, length=16), nullable=False),
        sa.Column("membership_expires_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("invited_by_id", sa.Uuid(), nullable=True),
        sa.Column("accepted_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("accepted_by_id", sa.Uuid(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(timezone=True), nullable=True),
        *_common("invitations"),
        _fk("invitations", "accepted_by_id", "users", "SET NULL"),
        _fk("invitations", "invited_by_id", "users", "SET NULL"),
        _fk("invitations", "project_id", "projects", "CASCADE"),
        sa.UniqueConstraint("digest", name=op.f("uq_invitations_digest")))
    _indexes("invitations", "email", "project_id")
    op.create_table(
        "join_requests",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        *_decided("join_requests"), *_common("join_requests"),
        _fk("join_requests", "project_id", "projects", "CASCADE"),
        _fk("join_requests", "user_id", "users", "CASCADE"))
    _indexes("join_requests", "project_id", "state", "user_id")
    op.create_table(
        "project_requests",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("requested_by_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=True),
        *_decided("project_requests"), *_common("project_requests"),
        _fk("project_requests", "organization_id", "organizations", "CASCADE"),
        _fk("project_requests", "project_id", "projects", "SET NULL"),
        _fk("project_requests", "requested_by_id", "users", "CASCADE"))
    _indexes("project_requests", "organization_id", "requested_by_id", "state")


def downgrade() -> None:
    for table in ("project_requests", "join_requests", "invitations", "pi_eligibilities",
                  "onboarding_policies"):
        op.drop_table(table)
