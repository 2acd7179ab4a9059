"""The demo's provider, offerings, price book and allocations, made through the
marketplace, billing and allocation services."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from ocx.demo.cast import (
    CPU_SU_LATER,
    OFFERINGS,
    PROJECTS,
    PROVIDER,
    PROVIDER_ORG,
    ROLE_ACCOUNTS,
    OfferingPlan,
)
from ocx.demo.people import act_as
from ocx.domain.actor import Actor
from ocx.domain.allocations import service as allocations
from ocx.domain.allocations.schemas import AllocationRequest, Decision
from ocx.domain.baremetal import inventory
from ocx.domain.baremetal.schemas import NodeCreate, SiteCreate
from ocx.domain.billing import pricebook
from ocx.domain.billing.schemas import RateSet, RatingRules, ServiceUnit
from ocx.domain.marketplace import service as marketplace
from ocx.domain.marketplace.schemas import (
    Component,
    OfferingCreate,
    PlanCreate,
    ProviderCreate,
)
from ocx.domain.operations.service import MAX_ATTEMPTS_KEY
from ocx.runtime import Runtime

PLAN = "standard"
NODES = (("bm-a100-01", "gpu-a100"), ("bm-a100-02", "gpu-a100"), ("bm-fat-01", "fat-memory"))


def offering_ref(name: str) -> str:
    """How the demo names one of its offerings: PROVIDER:NAME."""
    return f"{PROVIDER}:{name}"


def create_market(session: Session, runtime: Runtime, operator: Actor) -> None:
    """The provider (an operator lets Harbor sell) and its offerings with one plan each
    (Harbor's admin lists them)."""
    marketplace.create_provider(session, operator, ProviderCreate(
        organization=PROVIDER_ORG, name=PROVIDER, display_name="Harbor Research Cloud",
        description="OpenStack compute, object storage and GPUs in the Harbor data centre."))
    admin = act_as(session, ROLE_ACCOUNTS["provider"])
    for plan in OFFERINGS:
        settings: dict[str, Any] = {"cloud": plan.cloud, "down": plan.down}
        marketplace.create_offering(session, admin, runtime.drivers, runtime.sealer,
                                    OfferingCreate(
            provider=PROVIDER, name=plan.name, kind=plan.kind, display_name=plan.display_name,
            description=plan.description, driver="fake", driver_settings=settings,
            components=[Component.model_validate(c) for c in plan.components]))
        marketplace.create_plan(session, admin, offering_ref(plan.name), PlanCreate(
            name=PLAN, description="Pay for what you use, by the hour.", currency="USD"))


def create_nodes(session: Session, runtime: Runtime, operator: Actor) -> None:
    """A site (operators) and Harbor's bare-metal nodes on the fake BMC (its admin)."""
    inventory.create_site(session, operator, SiteCreate(
        name="harbor-dc1", description="Harbor's first data centre.", vlan_min=100,
        vlan_max=199))
    admin = act_as(session, ROLE_ACCOUNTS["provider"])
    for name, resource_class in NODES:
        inventory.create_node(session, admin, runtime.drivers, runtime.sealer, NodeCreate(
            name=name, site="harbor-dc1", owner=PROVIDER_ORG, resource_class=resource_class,
            description="A demo node: its BMC is the fake power driver.",
            power_driver="fake", power_settings={"bmc": f"demo-{name}"}))


def set_price_book(session: Session, operator: Actor, start: datetime,
                   change: datetime) -> None:
    """Rating rules and usage rates from ``start``; CPU gets cheaper from ``change``."""
    for plan in OFFERINGS:
        pricebook.set_rules(session, operator, offering_ref(plan.name), PLAN, _rules(plan))
        for component, (price, unit) in plan.prices.items():
            pricebook.set_rate(session, operator, offering_ref(plan.name), PLAN, RateSet(
                component=component, unit_price=Decimal(price), valid_from=start, unit=unit))
        if "cpu_su" in plan.prices:
            pricebook.set_rate(session, operator, offering_ref(plan.name), PLAN, RateSet(
                component="cpu_su", unit_price=CPU_SU_LATER, valid_from=change))


def _rules(plan: OfferingPlan) -> RatingRules:
    units = [ServiceUnit(component="cpu_su")]
    if plan.gpu_type:
        units.append(ServiceUnit(component=f"gpu_{plan.gpu_type}_su", gpu_type=plan.gpu_type,
                                 vcpus=Decimal(16), ram_mib=Decimal(65536), gpus=Decimal(1)))
    return RatingRules(service_units=units)


def request_allocations(runtime: Runtime) -> None:
    """Each project's PI asks for its offerings; Harbor's admin approves all but the
    pending ones. Provisioning on the unreachable GPU cloud is tried once and fails."""
    for project in PROJECTS:
        wanted = [*project.active, *project.pending, *project.broken]
        for offering in wanted:
            attempts = 1 if offering in project.broken else None
            info = {MAX_ATTEMPTS_KEY: attempts} if attempts else {}
            with runtime.sessions(info=info) as session, session.begin():
                _request(session, project.pi, f"{project.organization}:{project.name}",
                         offering, approve=offering not in project.pending)


def _request(session: Session, pi_email: str, project: str, offering: str, *,
             approve: bool) -> None:
    allocation, _ = allocations.request(session, act_as(session, pi_email), AllocationRequest(
        project=project, offering=offering_ref(offering),
        justification=f"{project} needs {offering} for this year's work."))
    if approve:
        allocations.decide(session, act_as(session, ROLE_ACCOUNTS["provider"]),
                           str(allocation.id), True, Decision(reason="within our capacity"))
