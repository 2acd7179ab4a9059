"""Federated identity tables: the IdP accounts (OIDC subjects, SAML names) behind users."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ocx.domain.identity.models import User
from ocx.persistence.base import Base, IdMixin, TimestampMixin

__all__ = ["ConsumedLogin", "ExternalIdentity", "TermsAcceptance"]


class ExternalIdentity(IdMixin, TimestampMixin, Base):
    """One account at one identity provider; a user may hold several (linked identities)."""

    __tablename__ = "external_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(63))
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(320), default="")
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[User] = relationship()


class ConsumedLogin(IdMixin, TimestampMixin, Base):
    """A sign-in request already answered: a second answer to it is a replay.

    A SAML response proves itself (its signature), so unlike an OIDC code, which the
    provider redeems once, nothing outside OCX stops it being posted twice.
    """

    __tablename__ = "consumed_logins"

    key: Mapped[str] = mapped_column(String(255), unique=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class TermsAcceptance(IdMixin, TimestampMixin, Base):
    """A user accepted one version of the terms of use (asked again when it changes)."""

    __tablename__ = "terms_acceptances"
    __table_args__ = (UniqueConstraint("user_id", "version"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True)
    version: Mapped[str] = mapped_column(String(64))
