"""SCIM provisioning tables: an institution's provisioning tokens and the users it manages."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ocx.domain.identity.models import Organization, User
from ocx.persistence.base import Base, IdMixin, TimestampMixin

__all__ = ["ScimLink", "ScimToken"]


class ScimToken(IdMixin, TimestampMixin, Base):
    """A bearer token of one organization's SCIM client; only its SHA-256 is stored."""

    __tablename__ = "scim_tokens"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)

    organization: Mapped[Organization] = relationship()


class ScimLink(IdMixin, TimestampMixin, Base):
    """A user that an organization's SCIM client provisions (it stays theirs when deactivated)."""

    __tablename__ = "scim_links"
    __table_args__ = (UniqueConstraint("organization_id", "user_id"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(255), default=None)

    user: Mapped[User] = relationship()
