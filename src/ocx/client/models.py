"""Response models that no domain ``schemas`` module defines.

Identity, operation and audit responses reuse the domain ``schemas`` modules, which
import neither FastAPI nor SQLAlchemy.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel

from ocx.domain.audit.schemas import AuditEventPublic

T = TypeVar("T", bound=BaseModel)


class Page(BaseModel, Generic[T]):
    """One page of a list; pass ``next_cursor`` back as ``cursor`` for the next."""

    items: list[T]
    next_cursor: str | None = None


class Health(BaseModel):
    """``GET /health``: whether the server is up and reaches its database."""

    status: str
    version: str
    database: str


# The audit trail's shape lives with its domain and carries no SQLAlchemy.
AuditEvent = AuditEventPublic
