"""The price book: each offering's plans with their dated usage rates, rating rules
(service units, billed server states, meters) and outages. Every change is audited.

Prices are the marketplace's ``Rate`` rows; this module changes them only forward in
time: a new price starts at a given instant and ends the one in force then, and no
change may start inside a month that a final invoice has closed.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ocx.domain import policy
from ocx.domain.actor import Actor
from ocx.domain.audit import service as audit
from ocx.domain.billing import schemas
from ocx.domain.billing.models import Invoice, Outage, PlanRules
from ocx.domain.billing.rating import SU_UNIT, Book, Price, Window
from ocx.domain.billing.states import InvoiceKind, InvoiceState
from ocx.domain.marketplace.models import Offering, Plan, Rate, RateKind
from ocx.domain.marketplace.schemas import RatePublic
from ocx.domain.marketplace.service import (
    find_offering,
    find_plan,
    find_provider,
    offering_target,
    provider_target,
)
from ocx.domain.policy import Action
from ocx.errors import Conflict, InvalidInput, NotFound


def rules_of(session: Session, plan: Plan) -> schemas.RatingRules:
    """The plan's rating rules (the defaults when none were set)."""
    row = session.get(PlanRules, plan.id)
    return schemas.RatingRules.model_validate(row.rules if row else {})


def book_of(session: Session, plan: Plan) -> Book:
    """What rating needs to price usage under ``plan``."""
    prices = tuple(Price(str(r.id), r.component, r.unit, r.unit_price, r.valid_from,
                         r.valid_until) for r in plan.rates if r.kind is RateKind.USAGE)
    return Book(str(plan.id), plan.currency, rules_of(session, plan), prices)


def outage_windows(session: Session, offering: Offering) -> list[Window]:
    """The outages of an offering and of its provider."""
    rows = session.scalars(select(Outage).where(or_(
        Outage.offering_id == offering.id, Outage.provider_id == offering.provider_id)))
    return [Window(o.starts_at, o.ends_at) for o in rows]


def closed_until(session: Session) -> datetime | None:
    """The end of the latest month a final invoice has closed, if any."""
    return session.scalar(select(func.max(Invoice.period_end)).where(
        Invoice.state == InvoiceState.FINAL, Invoice.kind == InvoiceKind.INVOICE))


def _plan_out(session: Session, plan: Plan) -> schemas.PlanBookPublic:
    return schemas.PlanBookPublic(
        plan_id=plan.id, plan=plan.name, currency=plan.currency,
        rules=rules_of(session, plan),
        rates=[RatePublic.model_validate(r) for r in plan.rates])


def show(session: Session, actor: Actor, offering_ref: str) -> schemas.PriceBookPublic:
    """An offering's plans with rates and rating rules, and its outages."""
    offering = find_offering(session, offering_ref)
    policy.authorize(actor, Action.PRICE_BOOK_READ, offering_target(offering))
    outages = session.scalars(select(Outage).where(or_(
        Outage.offering_id == offering.id, Outage.provider_id == offering.provider_id))
        .order_by(Outage.starts_at))
    return schemas.PriceBookPublic(
        offering_id=offering.id, offering=f"{offering.provider.name}:{offering.name}",
        provider_id=offering.provider_id,
        plans=[_plan_out(session, p) for p in sorted(offering.plans, key=lambda p: p.name)],
        outages=[schemas.OutagePublic.model_validate(o) for o in outages])


def _editable_plan(session: Session, actor: Actor, offering_ref: str,
                   plan_ref: str) -> tuple[Offering, Plan]:
    offering = find_offering(session, offering_ref)
    policy.authorize(actor, Action.PRICE_BOOK_UPDATE, offering_target(offering))
    plan = find_plan(session, offering, plan_ref)
    assert plan is not None  # find_plan raises for an unknown name
    return offering, plan


def set_rules(session: Session, actor: Actor, offering_ref: str, plan_ref: str,
              rules: schemas.RatingRules) -> schemas.PlanBookPublic:
    """Replace a plan's rating rules (they apply to every month not yet final)."""
    offering, plan = _editable_plan(session, actor, offering_ref, plan_ref)
    row = session.get(PlanRules, plan.id)
    before = row.rules if row else None
    if row is None:
        row = PlanRules(plan_id=plan.id)
        session.add(row)
    row.rules = rules.model_dump(mode="json")
    session.flush()
    audit.record(session, actor, "price_book.set_rules", "plan", plan.id,
                 organization_id=offering.provider.organization_id,
                 changes={"from": before, "to": row.rules})
    return _plan_out(session, plan)


def _rated_components(offering: Offering, rules: schemas.RatingRules) -> dict[str, str | None]:
    """Components a usage rate may price, with the unit usage of it is counted in."""
    known: dict[str, str | None] = {c["name"]: None for c in offering.components}
    known |= {m.component: None for m in rules.meters}
    return known | {u.component: SU_UNIT for u in rules.service_units}


def set_rate(session: Session, actor: Actor, offering_ref: str, plan_ref: str,
             body: schemas.RateSet) -> RatePublic:
    """Price a component from ``valid_from`` on; the rate in force then ends there.

    Raises:
        InvalidInput: the plan prices no such component, or the unit is unknown.
        Conflict: the change would start in a closed month, or before a later rate.
    """
    offering, plan = _editable_plan(session, actor, offering_ref, plan_ref)
    components = _rated_components(offering, rules_of(session, plan))
    if body.component not in components:
        raise InvalidInput(f"component: {plan.name} prices none called {body.component}; "
                           f"known: {', '.join(sorted(components))}")
    closed = closed_until(session)
    if closed is not None and body.valid_from < closed:
        raise Conflict(f"months up to {closed.isoformat()} are closed by final invoices; "
                       "a price change may start from then on (correct a closed month "
                       "with a credit note)")
    usage = [r for r in plan.rates
             if r.component == body.component and r.kind is RateKind.USAGE]
    later = [r for r in usage if r.valid_from >= body.valid_from]
    if later:
        raise Conflict(f"a {body.component} rate already starts at "
                       f"{later[0].valid_from.isoformat()}; price changes go forward in time")
    current = next((r for r in usage if r.valid_until is None
                    or r.valid_until > body.valid_from), None)
    unit = body.unit or (current.unit if current else components[body.component])
    if unit is None:
        raise InvalidInput(f"unit: say what one unit of {body.component} is (e.g. GiB-hour)")
    before = None
    if current is not None:
        before = {"rate_id": str(current.id), "valid_until": current.valid_until}
        current.valid_until = body.valid_from
    rate = Rate(component=body.component, kind=RateKind.USAGE, unit=unit,
                unit_price=body.unit_price, valid_from=body.valid_from, valid_until=None)
    plan.rates.append(rate)
    session.flush()
    audit.record(session, actor, "price_book.set_rate", "plan", plan.id,
                 organization_id=offering.provider.organization_id,
                 changes={"rate": body.model_dump(mode="json") | {"unit": unit},
                          "ended": before})
    return RatePublic.model_validate(rate)


def add_outage(session: Session, actor: Actor, body: schemas.OutageCreate) -> Outage:
    """Record an outage of a provider or one offering: its usage in the window is free."""
    outage = Outage(starts_at=body.starts_at, ends_at=body.ends_at, reason=body.reason)
    if body.offering is not None:
        outage.offering_id = find_offering(session, body.offering).id
    else:
        outage.provider_id = find_provider(session, body.provider or "").id
    org_id = _authorize_outage(session, actor, outage)
    session.add(outage)
    session.flush()
    audit.record(session, actor, "price_book.add_outage", "outage", outage.id,
                 organization_id=org_id, changes=body.model_dump(mode="json"))
    return outage


def delete_outage(session: Session, actor: Actor, outage_id: uuid.UUID) -> None:
    """Remove an outage that no final invoice relied on."""
    outage = session.get(Outage, outage_id)
    if outage is None:
        raise NotFound("outage not found")
    org_id = _authorize_outage(session, actor, outage)
    audit.record(session, actor, "price_book.delete_outage", "outage", outage.id,
                 organization_id=org_id,
                 changes={"starts_at": outage.starts_at, "ends_at": outage.ends_at})
    session.delete(outage)


def _authorize_outage(session: Session, actor: Actor, outage: Outage) -> uuid.UUID:
    """Check the actor may change the outage (in an open month); its provider's org id."""
    if outage.offering_id is not None:
        offering = find_offering(session, outage.offering_id)
        target, org_id = offering_target(offering), offering.provider.organization_id
    else:
        provider = find_provider(session, outage.provider_id or "")
        target, org_id = provider_target(provider), provider.organization_id
    policy.authorize(actor, Action.PRICE_BOOK_UPDATE, target)
    closed = closed_until(session)
    if closed is not None and outage.starts_at < closed:
        raise Conflict(f"months up to {closed.isoformat()} are closed by final invoices")
    return org_id
