"""API shapes for the marketplace."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    Field,
    StringConstraints,
    field_serializer,
    field_validator,
    model_validator,
)

from ocx.domain.identity.schemas import LongText, Public, ShortText, Slug, Strict, UtcDatetime
from ocx.domain.marketplace.states import RateKind

ComponentName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$"), Field(
    description="lower-case, units in the name: cores, ram_mib, storage_gib, floating_ips")]
Kind = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$"),
                 Field(description="openstack, object_storage, kubernetes, baremetal, ...")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
PRICE_QUANTUM = Decimal("0.000001")
Price = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6)]


class ProviderCreate(Strict):
    organization: str = Field(max_length=100, description="the selling organization")
    name: Slug
    display_name: ShortText = ""
    description: LongText = ""


class ProviderUpdate(Strict):
    display_name: ShortText | None = None
    description: LongText | None = None


class ProviderPublic(Public):
    id: uuid.UUID
    name: str
    organization_id: uuid.UUID
    display_name: str
    description: str
    created_at: datetime


class Component(Strict):
    """One measurable part of an offering, with its limits."""

    name: ComponentName
    unit: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    description: ShortText = ""
    max: int | None = Field(default=None, ge=0, description="the most one allocation may ask")
    default: int | None = Field(default=None, ge=0, description="quota when none is asked")


def _unique_components(components: list[Component]) -> list[Component]:
    names = [c.name for c in components]
    if len(set(names)) != len(names):
        raise ValueError("component names must be unique")
    return components


class OfferingCreate(Strict):
    provider: str = Field(max_length=100, description="provider id or name")
    name: Slug
    kind: Kind
    display_name: ShortText = ""
    description: LongText = ""
    driver: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
    driver_settings: dict[str, Any] = Field(default_factory=dict)
    components: list[Component] = Field(min_length=1, max_length=50)
    auto_approve: bool = Field(default=False, description="approve requests within limits")
    auto_renewals: int = Field(default=2, ge=0, le=100, description=(
        "renewals auto_approve grants without a person (then the provider decides)"))
    auto_term_days: int = Field(default=366, ge=1, le=3660, description=(
        "auto_approve renews up to this many days after the allocation's start"))
    allowed_organizations: list[Annotated[str, StringConstraints(max_length=100)]] = Field(
        default_factory=list, max_length=500, description="empty: open to every organization")

    _components = field_validator("components")(_unique_components)


class OfferingUpdate(Strict):
    display_name: ShortText | None = None
    description: LongText | None = None
    driver_settings: dict[str, Any] | None = None
    auto_approve: bool | None = None
    auto_renewals: int | None = Field(default=None, ge=0, le=100)
    auto_term_days: int | None = Field(default=None, ge=1, le=3660)
    allowed_organizations: list[Annotated[str, StringConstraints(max_length=100)]] | None = None
    is_active: bool | None = None


class OfferingPublic(Public):
    id: uuid.UUID
    provider_id: uuid.UUID
    provider: str
    name: str
    kind: str
    display_name: str
    description: str
    driver: str
    components: list[dict[str, Any]]
    auto_approve: bool
    auto_renewals: int
    auto_term_days: int
    allowed_organizations: list[str]
    is_active: bool
    created_at: datetime
    driver_settings: dict[str, Any] | None = Field(
        default=None, description="secrets masked; shown to the provider's admins only")


class RateCreate(Strict):
    component: ComponentName
    kind: RateKind
    unit: Annotated[str, StringConstraints(min_length=1, max_length=32)] = Field(
        description="what one unit is, e.g. core-hour, GiB-month, node-hour")
    unit_price: Price
    valid_from: UtcDatetime
    valid_until: UtcDatetime | None = None

    @model_validator(mode="after")
    def _window(self) -> RateCreate:
        if self.valid_until is not None and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must come after valid_from")
        return self


class RatePublic(Public):
    id: uuid.UUID
    component: str
    kind: RateKind
    unit: str
    unit_price: Decimal
    valid_from: datetime
    valid_until: datetime | None

    @field_serializer("unit_price")
    def _six_places(self, price: Decimal) -> str:
        # Prices are stored with six decimal places; answer them the same way every time.
        return str(price.quantize(PRICE_QUANTUM))


class PlanCreate(Strict):
    name: Slug
    description: LongText = ""
    currency: Currency = "USD"
    rates: list[RateCreate] = Field(default_factory=list, max_length=200)


class PlanPublic(Public):
    id: uuid.UUID
    offering_id: uuid.UUID
    name: str
    description: str
    currency: str
    rates: list[RatePublic]
    created_at: datetime
