"""Marketplace rules: providers run shops, offerings say what they sell and to whom."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from ocx.domain import policy
from ocx.domain.actor import Actor
from ocx.domain.audit import service as audit
from ocx.domain.identity.service import find_org
from ocx.domain.marketplace import schemas
from ocx.domain.marketplace.models import Offering, OfferingAudience, Plan, Provider, Rate
from ocx.domain.policy import Action, Target
from ocx.drivers import stored_settings as driver_settings
from ocx.drivers.project import ProjectDriver
from ocx.drivers.registry import DriverRegistry
from ocx.errors import Conflict, InvalidInput, NotFound
from ocx.persistence.base import as_uuid
from ocx.persistence.db import flush_unique
from ocx.persistence.pagination import Page, paginate
from ocx.persistence.sealed import Sealer


def find_provider(session: Session, ref: str | uuid.UUID) -> Provider:
    """A provider by id or name. Raises NotFound."""
    ref_id = as_uuid(ref)
    found = (session.get(Provider, ref_id) if ref_id else
             session.scalar(select(Provider).where(Provider.name == str(ref).lower())))
    if found is None:
        raise NotFound("provider not found")
    return found


def provider_target(provider: Provider) -> Target:
    """The policy target for a provider: its organization sells."""
    return Target(provider_org_id=provider.organization_id)


def create_provider(session: Session, actor: Actor,
                    body: schemas.ProviderCreate) -> Provider:
    """Let an organization sell on the exchange (operators)."""
    policy.authorize(actor, Action.PROVIDER_CREATE)
    org = find_org(session, body.organization)
    provider = Provider(organization_id=org.id, **body.model_dump(exclude={"organization"}))
    session.add(provider)
    flush_unique(session, f"a provider named {body.name} or for {org.name}")
    audit.record(session, actor, "provider.create", "provider", provider.id,
                 organization_id=org.id, changes=body.model_dump())
    return provider


def list_providers(session: Session, actor: Actor, *, cursor: str | None,
                   limit: int) -> Page[Provider]:
    """Every provider on the exchange."""
    policy.authorize(actor, Action.PROVIDER_LIST)
    return paginate(session, select(Provider), Provider, cursor=cursor, limit=limit)


def providers_run_by(session: Session, actor: Actor) -> list[Provider]:
    """The providers the actor runs (admin of their organization), by name; operators: all."""
    policy.authorize(actor, Action.PROVIDER_LIST)
    stmt = select(Provider).order_by(Provider.name)
    if not actor.is_operator:
        stmt = stmt.where(Provider.organization_id.in_(actor.admin_org_ids()))
    return list(session.scalars(stmt))


def get_provider(session: Session, actor: Actor, ref: str) -> Provider:
    """One provider."""
    provider = find_provider(session, ref)
    policy.authorize(actor, Action.PROVIDER_READ, provider_target(provider))
    return provider


def update_provider(session: Session, actor: Actor, ref: str,
                    body: schemas.ProviderUpdate) -> Provider:
    """Change a provider's descriptive fields (its admins, operators)."""
    provider = find_provider(session, ref)
    policy.authorize(actor, Action.PROVIDER_UPDATE, provider_target(provider))
    changes = body.model_dump(exclude_none=True)
    before = {key: getattr(provider, key) for key in changes}
    for key, value in changes.items():
        setattr(provider, key, value)
    audit.record(session, actor, "provider.update", "provider", provider.id,
                 organization_id=provider.organization_id, changes=audit.diff(before, changes))
    return provider


def delete_provider(session: Session, actor: Actor, ref: str) -> None:
    """Remove a provider that offers nothing (operators)."""
    provider = find_provider(session, ref)
    policy.authorize(actor, Action.PROVIDER_DELETE, provider_target(provider))
    if session.scalar(select(Offering.id).where(Offering.provider_id == provider.id).limit(1)):
        raise Conflict(f"provider {provider.name} still has offerings")
    audit.record(session, actor, "provider.delete", "provider", provider.id,
                 organization_id=provider.organization_id, changes={"name": provider.name})
    session.delete(provider)


# --- offerings ----------------------------------------------------------------------

def offering_target(offering: Offering) -> Target:
    """The policy target for an offering: who sells it and who may use it."""
    audience = frozenset(a.organization_id for a in offering.audience)
    return Target(provider_org_id=offering.provider.organization_id,
                  audience_org_ids=audience or None)


def find_offering(session: Session, ref: str | uuid.UUID) -> Offering:
    """An offering by id, ``provider:name``, or a name unique across providers.

    Raises:
        NotFound: no such offering.
        Conflict: several providers offer something by that name.
    """
    ref_id = as_uuid(ref)
    if ref_id:
        offering = session.get(Offering, ref_id)
        if offering is None:
            raise NotFound("offering not found")
        return offering
    provider_name, _, name = str(ref).lower().rpartition(":")
    stmt = select(Offering).where(Offering.name == name)
    if provider_name:
        stmt = stmt.join(Provider).where(Provider.name == provider_name)
    found = list(session.scalars(stmt.limit(2)))
    if not found:
        raise NotFound("offering not found")
    if len(found) > 1:
        raise Conflict(f"several providers offer {name}; name it as PROVIDER:{name}")
    return found[0]


def _audience(session: Session, refs: list[str]) -> list[OfferingAudience]:
    return [OfferingAudience(organization_id=find_org(session, ref).id) for ref in refs]


def create_offering(session: Session, actor: Actor, registry: DriverRegistry, sealer: Sealer,
                    body: schemas.OfferingCreate) -> Offering:
    """List something new for sale (the provider's admins, operators)."""
    provider = find_provider(session, body.provider)
    policy.authorize(actor, Action.OFFERING_CREATE, provider_target(provider))
    _check_defaults(body.components)
    _check_components(registry, body.driver, body.components)
    offering = Offering(
        provider_id=provider.id, provider=provider,
        **body.model_dump(include={"name", "kind", "display_name", "description", "driver",
                                   "auto_approve", "auto_renewals", "auto_term_days"}),
        driver_settings=driver_settings.validated(registry, sealer, ProjectDriver, body.driver,
                                                  body.driver_settings),
        components=[c.model_dump() for c in body.components],
        audience=_audience(session, body.allowed_organizations))
    session.add(offering)
    flush_unique(session, f"offering {provider.name}:{body.name}")
    audit.record(session, actor, "offering.create", "offering", offering.id,
                 organization_id=provider.organization_id,
                 changes={**body.model_dump(exclude={"driver_settings"}, mode="json"),
                          "driver_settings": driver_settings.masked(offering.driver_settings)})
    return offering


def _check_components(registry: DriverRegistry, driver: str,
                      components: list[schemas.Component]) -> None:
    """Refuse components the driver cannot enforce (they would fail every allocation)."""
    known = registry.driver_class(ProjectDriver, driver).components
    unknown = sorted({c.name for c in components} - known)
    if known and unknown:
        raise InvalidInput(f"components: the {driver} driver does not know "
                           f"{', '.join(unknown)}; it knows {', '.join(sorted(known))}")


def _check_defaults(components: list[schemas.Component]) -> None:
    for component in components:
        if None not in (component.default, component.max) and \
                component.default > component.max:  # type: ignore[operator]
            raise InvalidInput(f"components: {component.name}'s default exceeds its max")


def list_offerings(session: Session, actor: Actor, *, cursor: str | None, limit: int,
                   provider: str | None = None, kind: str | None = None) -> Page[Offering]:
    """Offerings the actor may use or runs (operators: all), active ones unless theirs."""
    policy.authorize(actor, Action.OFFERING_LIST)
    stmt = select(Offering).join(Provider)
    if not actor.is_operator:
        related = actor.related_org_ids()
        open_to_all = ~exists().where(OfferingAudience.offering_id == Offering.id)
        open_to_me = exists().where(OfferingAudience.offering_id == Offering.id,
                                    OfferingAudience.organization_id.in_(related))
        usable = (Offering.is_active.is_(True)) & or_(open_to_all, open_to_me)
        stmt = stmt.where(or_(usable, Provider.organization_id.in_(actor.admin_org_ids())))
    if provider:
        stmt = stmt.where(Provider.id == find_provider(session, provider).id)
    if kind:
        stmt = stmt.where(Offering.kind == kind)
    return paginate(session, stmt, Offering, cursor=cursor, limit=limit)


def get_offering(session: Session, actor: Actor, ref: str) -> Offering:
    """One offering the actor may use or runs."""
    offering = find_offering(session, ref)
    policy.authorize(actor, Action.OFFERING_READ, offering_target(offering))
    return offering


def update_offering(session: Session, actor: Actor, registry: DriverRegistry, sealer: Sealer,
                    ref: str, body: schemas.OfferingUpdate) -> Offering:
    """Change an offering (its provider's admins, operators)."""
    offering = find_offering(session, ref)
    policy.authorize(actor, Action.OFFERING_UPDATE, offering_target(offering))
    changes: dict[str, Any] = body.model_dump(
        exclude_none=True, exclude={"driver_settings", "allowed_organizations"})
    for key, value in changes.items():
        setattr(offering, key, value)
    if body.driver_settings is not None:
        offering.driver_settings = driver_settings.updated(
            registry, sealer, ProjectDriver, offering.driver, offering.driver_settings,
            body.driver_settings)
        changes["driver_settings"] = driver_settings.masked(offering.driver_settings)
    if body.allowed_organizations is not None:
        offering.audience = _audience(session, body.allowed_organizations)
        changes["allowed_organizations"] = body.allowed_organizations
    audit.record(session, actor, "offering.update", "offering", offering.id,
                 organization_id=offering.provider.organization_id, changes=changes)
    return offering


def can_manage(actor: Actor, offering: Offering) -> bool:
    """Whether the actor runs this offering (sees its settings)."""
    return policy.can(actor, Action.OFFERING_UPDATE, offering_target(offering))


# --- plans and rates ----------------------------------------------------------------

def create_plan(session: Session, actor: Actor, offering_ref: str,
                body: schemas.PlanCreate) -> Plan:
    """Add a plan with its dated rates to an offering."""
    offering = find_offering(session, offering_ref)
    policy.authorize(actor, Action.PLAN_CREATE, offering_target(offering))
    plan = Plan(offering_id=offering.id, name=body.name, description=body.description,
                currency=body.currency)
    session.add(plan)
    flush_unique(session, f"plan {body.name} of {offering.name}")
    for rate in body.rates:
        _add_rate(offering, plan, rate)
    session.flush()
    audit.record(session, actor, "plan.create", "plan", plan.id,
                 organization_id=offering.provider.organization_id,
                 changes=body.model_dump(mode="json"))
    return plan


def _add_rate(offering: Offering, plan: Plan, body: schemas.RateCreate) -> Rate:
    if offering.component(body.component) is None:
        raise InvalidInput(f"rates: {offering.name} has no component {body.component}")
    far = body.valid_until
    for rate in plan.rates:
        same = (rate.component, rate.kind) == (body.component, body.kind)
        overlaps = (rate.valid_until is None or body.valid_from < rate.valid_until) and \
            (far is None or rate.valid_from < far)
        if same and overlaps:
            raise Conflict(f"a {body.kind.value} rate for {body.component} is already in "
                           f"force from {rate.valid_from.isoformat()}; end it first")
    rate = Rate(**body.model_dump())
    plan.rates.append(rate)
    return rate


def list_plans(session: Session, actor: Actor, offering_ref: str) -> list[Plan]:
    """An offering's plans."""
    offering = find_offering(session, offering_ref)
    policy.authorize(actor, Action.PLAN_READ, offering_target(offering))
    return list(session.scalars(select(Plan).where(Plan.offering_id == offering.id)
                                .order_by(Plan.created_at)))


def find_plan(session: Session, offering: Offering, ref: str | None) -> Plan | None:
    """The named plan of ``offering`` (by id or name); the only one if there is one."""
    plans = {str(p.id): p for p in offering.plans} | {p.name: p for p in offering.plans}
    if ref is None:
        return offering.plans[0] if len(offering.plans) == 1 else None
    if ref not in plans:
        raise InvalidInput(f"plan: {offering.name} has no plan {ref}")
    return plans[ref]
