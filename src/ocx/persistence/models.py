"""Imports every domain's models so that ``Base.metadata`` knows all tables (Alembic, tests)."""

from __future__ import annotations

from ocx.domain.allocations import models as allocations_models
from ocx.domain.audit import models as audit_models
from ocx.domain.baremetal import models as baremetal_models
from ocx.domain.billing import budget_models
from ocx.domain.billing import models as billing_models
from ocx.domain.identity import federation_models, onboarding_models, scim_models
from ocx.domain.identity import models as identity_models
from ocx.domain.images import models as images_models
from ocx.domain.marketplace import models as marketplace_models
from ocx.domain.metering import models as metering_models
from ocx.domain.operations import models as operations_models
from ocx.persistence.base import Base

__all__ = [
    "Base",
    "allocations_models",
    "audit_models",
    "baremetal_models",
    "billing_models",
    "budget_models",
    "federation_models",
    "identity_models",
    "images_models",
    "marketplace_models",
    "metering_models",
    "onboarding_models",
    "operations_models",
    "scim_models",
]
