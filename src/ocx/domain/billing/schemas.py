"""API shapes for billing: the price book's rules, outages, credits and invoices."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    Field,
    PlainSerializer,
    StringConstraints,
    field_validator,
    model_validator,
)

from ocx.domain.billing.states import InvoiceKind, InvoiceState
from ocx.domain.identity.schemas import LongText, Public, ShortText, Slug, Strict, UtcDatetime
from ocx.domain.marketplace.schemas import ComponentName, Currency, Price, RatePublic

Meter = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.*-]{0,62}$"), Field(
    description="a meter such as volume.storage; * matches any text (baremetal.node_hours.*)")]
Period = Annotated[str, StringConstraints(pattern=r"^(19|20)\d{2}-(0[1-9]|1[0-2])$"),
                   Field(description="a calendar month, YYYY-MM (UTC), 1900 to 2099")]
Money = Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)]
# An amount of money in an answer: always two decimals ("12.30", "-5.25").
Cents = Annotated[Decimal, PlainSerializer(lambda v: str(v.quantize(Decimal("0.01"))),
                                           return_type=str, when_used="json")]
Ratio = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=0)]
SERVER_STATES = ("active", "stopped", "shelved", "suspended", "paused", "error", "building")


class ServiceUnit(Strict):
    """A bundle of server resources priced as one unit: a server counts as the largest of
    vcpus / vcpus-per-SU, ram_mib / ram_mib-per-SU and gpus / gpus-per-SU."""

    component: ComponentName = Field(description="the rate component, e.g. cpu_su, gpu_a100_su")
    gpu_type: Annotated[str, StringConstraints(min_length=1, max_length=63)] | None = Field(
        default=None, description="servers with GPUs of this type; none: servers without")
    vcpus: Ratio = Decimal(1)
    ram_mib: Ratio = Decimal(4096)
    gpus: Ratio | None = None

    @model_validator(mode="after")
    def _gpus_for_gpu_type(self) -> ServiceUnit:
        if (self.gpu_type is None) != (self.gpus is None):
            raise ValueError("a GPU service unit names both gpu_type and gpus; a CPU one neither")
        return self


class MeterRule(Strict):
    """Usage of a meter is priced, quantity as recorded, as a component."""

    meter: Meter
    component: ComponentName


def _default_meters() -> list[MeterRule]:
    return [MeterRule(meter="volume.storage", component="storage_gib"),
            MeterRule(meter="network.floating_ip", component="floating_ips"),
            MeterRule(meter="object.storage", component="object_gib")]


class RatingRules(Strict):
    """How a plan turns usage spans into priced quantities."""

    service_units: list[ServiceUnit] = Field(
        default_factory=lambda: [ServiceUnit(component="cpu_su")], max_length=50,
        description="compute.server spans are priced in SU-hours of the matching unit")
    billed_states: list[str] = Field(
        default_factory=lambda: ["active", "paused", "stopped", "suspended"], max_length=7,
        description=f"server states that are billed, of {', '.join(SERVER_STATES)}")
    meters: list[MeterRule] = Field(default_factory=_default_meters, max_length=100)

    @field_validator("billed_states")
    @classmethod
    def _known_states(cls, states: list[str]) -> list[str]:
        unknown = sorted(set(states) - set(SERVER_STATES))
        if unknown:
            raise ValueError(f"unknown server states {', '.join(unknown)}")
        return sorted(set(states))

    @field_validator("service_units")
    @classmethod
    def _one_unit_per_gpu_type(cls, units: list[ServiceUnit]) -> list[ServiceUnit]:
        types = [u.gpu_type for u in units]
        if len(set(types)) != len(types):
            raise ValueError("one service unit per gpu_type")
        return units


class RateSet(Strict):
    """A new usage price for a component from a time on: the rate in force then ends."""

    component: ComponentName
    unit_price: Price
    valid_from: UtcDatetime
    unit: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = Field(
        default=None, description="what one unit is; by default the previous rate's, "
                                  "or SU-hour for service units")


class OutageCreate(Strict):
    provider: str | None = Field(default=None, max_length=100)
    offering: str | None = Field(default=None, max_length=130)
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    reason: LongText = ""

    @model_validator(mode="after")
    def _one_target(self) -> OutageCreate:
        if (self.provider is None) == (self.offering is None):
            raise ValueError("name a provider or an offering (one of them)")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must come after starts_at")
        return self


class OutagePublic(Public):
    id: uuid.UUID
    provider_id: uuid.UUID | None
    offering_id: uuid.UUID | None
    starts_at: datetime
    ends_at: datetime
    reason: str


class PlanBookPublic(Public):
    plan_id: uuid.UUID
    plan: str
    currency: str
    rules: RatingRules
    rates: list[RatePublic]


class PriceBookPublic(Strict):
    offering_id: uuid.UUID
    offering: str
    provider_id: uuid.UUID
    plans: list[PlanBookPublic]
    outages: list[OutagePublic]


class CreditCreate(Strict):
    organization: str = Field(max_length=100)
    project: str | None = Field(default=None, max_length=100)
    name: Slug = Field(description="e.g. new-pi")
    amount: Money = Field(gt=0)
    currency: Currency = "USD"
    percent: Annotated[Decimal, Field(gt=0, le=100, decimal_places=2)] = Decimal(100)
    priority: int = Field(default=100, ge=0, le=10000, description="lower is used first")
    excluded_components: list[Annotated[str, StringConstraints(
        pattern=r"^[a-z0-9_*?]{1,63}$")]] = Field(default_factory=list, max_length=50)
    valid_from: UtcDatetime
    valid_until: UtcDatetime | None = None


class CreditPublic(Public):
    id: uuid.UUID
    organization_id: uuid.UUID
    project_id: uuid.UUID | None
    name: str
    amount: Cents
    currency: str
    percent: Decimal
    priority: int
    excluded_components: list[str]
    valid_from: datetime
    valid_until: datetime | None
    used: Cents = Field(default=Decimal(0), description="spent on final invoices")



class InvoiceGenerate(Strict):
    period: Period
    organization: str | None = Field(default=None, max_length=100,
                                     description="one organization; all with usage if unset")


class CreditNoteLine(Strict):
    project: str = Field(max_length=100)
    description: ShortText
    amount: Money = Field(gt=0)


class CreditNoteCreate(Strict):
    reason: LongText = Field(min_length=1)
    lines: list[CreditNoteLine] = Field(min_length=1, max_length=200)


class InvoiceLinePublic(Public):
    id: uuid.UUID
    project_id: uuid.UUID
    user_id: uuid.UUID | None
    offering_id: uuid.UUID | None
    resource_kind: str
    resource_id: str
    meter: str
    component: str
    description: str
    quantity: Decimal
    unit: str
    rate_id: uuid.UUID | None
    unit_price: Decimal
    amount: Cents
    span_ids: list[int]



class InvoiceCreditPublic(Public):
    credit_id: uuid.UUID
    project_id: uuid.UUID
    amount: Cents



class InvoicePublic(Public):
    id: uuid.UUID
    organization_id: uuid.UUID
    kind: InvoiceKind
    state: InvoiceState
    period: str
    period_start: datetime
    period_end: datetime
    currency: str
    subtotal: Cents
    credits_total: Cents
    total: Cents
    corrects_id: uuid.UUID | None
    reason: str
    finalized_at: datetime | None
    created_at: datetime



class InvoiceDetail(InvoicePublic):
    lines: list[InvoiceLinePublic]
    credits: list[InvoiceCreditPublic]


# --- reports: a project's page of an invoice, showback ------------------------------

class Person(BaseModel):
    name: str
    email: str
    role: str


class ResourceUsage(BaseModel):
    """One resource's priced usage in the month, all its lines together."""

    resource_kind: str
    resource_id: str
    meter: str
    quantity: Decimal
    unit: str
    amount: Cents
    attributes: dict[str, Any]



class QuotaPeriod(BaseModel):
    offering_id: uuid.UUID
    state: str
    quota: dict[str, int]
    starts_at: datetime
    ends_at: datetime | None


class ProjectSummary(BaseModel):
    """Everything the project's page of an invoice shows."""

    invoice_id: uuid.UUID
    period: str
    currency: str
    project_id: uuid.UUID
    project: str
    organization: str
    pis: list[Person]
    users: list[Person]
    sections: dict[str, list[ResourceUsage]]
    quota_periods: list[QuotaPeriod]
    subtotal: Cents
    credits: Cents
    total: Cents



class ShowbackBy(StrEnum):
    """What a showback report groups by."""

    PROJECT = "project"
    USER = "user"
    ORG = "org"
    PROVIDER = "provider"


class ShowbackRow(BaseModel):
    key: str
    name: str
    currency: str
    amount: Cents



def month_bounds(period: str) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) of ``YYYY-MM`` in UTC.

    Raises:
        ValueError: ``period`` is not a YYYY-MM month.
    """
    if not re.fullmatch(r"(19|20)\d{2}-(0[1-9]|1[0-2])", period):
        raise ValueError(f"period {period!r} is not YYYY-MM")
    year, month = int(period[:4]), int(period[5:])
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, end
