"""Offerings and their plans."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from ocx.api.deps import ActorDep, PageDep, RuntimeDep, SessionDep, declares
from ocx.api.pages import PageOut, page_out
from ocx.domain.actor import Actor
from ocx.domain.allocations import service as allocations
from ocx.domain.marketplace import schemas, service
from ocx.domain.marketplace.models import Offering
from ocx.domain.policy import Action
from ocx.drivers import stored_settings as driver_settings

router = APIRouter(prefix="/offerings", tags=["marketplace"])
OfferingRef = Annotated[str, Path(max_length=130,
                                  description="offering id, name, or PROVIDER:NAME")]


def offering_out(actor: Actor, offering: Offering) -> schemas.OfferingPublic:
    """The offering as the actor may see it (settings for its provider's admins only)."""
    settings = (driver_settings.masked(offering.driver_settings)
                if service.can_manage(actor, offering) else None)
    return schemas.OfferingPublic(
        id=offering.id, provider_id=offering.provider_id, provider=offering.provider.name,
        name=offering.name, kind=offering.kind, display_name=offering.display_name,
        description=offering.description, driver=offering.driver,
        components=offering.components, auto_approve=offering.auto_approve,
        auto_renewals=offering.auto_renewals, auto_term_days=offering.auto_term_days,
        allowed_organizations=[str(a.organization_id) for a in offering.audience],
        is_active=offering.is_active, created_at=offering.created_at,
        driver_settings=settings)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=schemas.OfferingPublic,
             **declares(Action.OFFERING_CREATE))
def create_offering(body: schemas.OfferingCreate, actor: ActorDep, session: SessionDep,
                    runtime: RuntimeDep) -> schemas.OfferingPublic:
    """List something for sale: kind, driver and settings, components (provider admins)."""
    created = service.create_offering(session, actor, runtime.drivers, runtime.sealer, body)
    return offering_out(actor, created)


@router.get("", response_model=PageOut[schemas.OfferingPublic],
            **declares(Action.OFFERING_LIST))
def list_offerings(
    actor: ActorDep, session: SessionDep, page: PageDep,
    provider: Annotated[str | None, Query(max_length=100)] = None,
    kind: Annotated[str | None, Query(max_length=32)] = None,
) -> PageOut[schemas.OfferingPublic]:
    """Offerings open to you (and those your provider runs)."""
    found = service.list_offerings(session, actor, cursor=page.cursor, limit=page.limit,
                                   provider=provider, kind=kind)
    return page_out(found, lambda o: offering_out(actor, o))


@router.get("/{offering}", response_model=schemas.OfferingPublic,
            **declares(Action.OFFERING_READ))
def show_offering(offering: OfferingRef, actor: ActorDep,
                  session: SessionDep) -> schemas.OfferingPublic:
    """One offering."""
    return offering_out(actor, service.get_offering(session, actor, offering))


@router.patch("/{offering}", response_model=schemas.OfferingPublic,
              **declares(Action.OFFERING_UPDATE))
def update_offering(offering: OfferingRef, body: schemas.OfferingUpdate, actor: ActorDep,
                    session: SessionDep, runtime: RuntimeDep) -> schemas.OfferingPublic:
    """Change an offering; a secret sent back as "***" keeps its value (provider admins).
    Only operators may change the driver settings of an offering with live allocations."""
    updated = allocations.update_offering(session, actor, runtime.drivers, runtime.sealer,
                                          offering, body)
    return offering_out(actor, updated)


@router.post("/{offering}/plans", status_code=status.HTTP_201_CREATED,
             response_model=schemas.PlanPublic, **declares(Action.PLAN_CREATE))
def create_plan(offering: OfferingRef, body: schemas.PlanCreate, actor: ActorDep,
                session: SessionDep) -> schemas.PlanPublic:
    """Add a plan with dated rates per component (provider admins)."""
    return schemas.PlanPublic.model_validate(
        service.create_plan(session, actor, offering, body))


@router.get("/{offering}/plans", response_model=list[schemas.PlanPublic],
            **declares(Action.PLAN_READ))
def list_plans(offering: OfferingRef, actor: ActorDep,
               session: SessionDep) -> list[schemas.PlanPublic]:
    """The offering's plans and their rates."""
    return [schemas.PlanPublic.model_validate(p)
            for p in service.list_plans(session, actor, offering)]
