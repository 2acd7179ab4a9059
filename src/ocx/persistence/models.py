"""Imports every domain's models so that ``Base.metadata`` knows all tables (Alembic, tests)."""

from __future__ import annotations

from ocx.domain.audit import models as audit_models
from ocx.domain.identity import models as identity_models
from ocx.domain.operations import models as operations_models
from ocx.persistence.base import Base

__all__ = ["Base", "audit_models", "identity_models", "operations_models"]
