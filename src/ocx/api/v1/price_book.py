"""The price book: each offering's dated usage rates, rating rules and outages."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from ocx.api.deps import ActorDep, SessionDep, declares
from ocx.domain.billing import pricebook, schemas
from ocx.domain.marketplace.schemas import RatePublic
from ocx.domain.policy import Action

router = APIRouter(prefix="/price-book", tags=["billing"])
OfferingRef = Annotated[str, Path(max_length=130,
                                  description="offering id, name, or PROVIDER:NAME")]
PlanRef = Annotated[str, Path(max_length=63, description="plan id or name")]


@router.get("/{offering}", response_model=schemas.PriceBookPublic,
            **declares(Action.PRICE_BOOK_READ))
def show_price_book(offering: OfferingRef, actor: ActorDep,
                    session: SessionDep) -> schemas.PriceBookPublic:
    """An offering's plans with their rates and rating rules, and its outages."""
    return pricebook.show(session, actor, offering)


@router.put("/{offering}/plans/{plan}/rules", response_model=schemas.PlanBookPublic,
            **declares(Action.PRICE_BOOK_UPDATE))
def set_rules(offering: OfferingRef, plan: PlanRef, body: schemas.RatingRules,
              actor: ActorDep, session: SessionDep) -> schemas.PlanBookPublic:
    """Replace a plan's rating rules: service units, billed server states, meters."""
    return pricebook.set_rules(session, actor, offering, plan, body)


@router.post("/{offering}/plans/{plan}/rates", status_code=status.HTTP_201_CREATED,
             response_model=RatePublic, **declares(Action.PRICE_BOOK_UPDATE))
def set_rate(offering: OfferingRef, plan: PlanRef, body: schemas.RateSet, actor: ActorDep,
             session: SessionDep) -> RatePublic:
    """Price a component from a time on; the rate in force then ends there."""
    return pricebook.set_rate(session, actor, offering, plan, body)


@router.post("/outages", status_code=status.HTTP_201_CREATED,
             response_model=schemas.OutagePublic, **declares(Action.PRICE_BOOK_UPDATE))
def add_outage(body: schemas.OutageCreate, actor: ActorDep,
               session: SessionDep) -> schemas.OutagePublic:
    """Record an outage of a provider or an offering: usage in it is not billed."""
    return schemas.OutagePublic.model_validate(pricebook.add_outage(session, actor, body))


@router.delete("/outages/{outage}", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response, **declares(Action.PRICE_BOOK_UPDATE))
def delete_outage(outage: uuid.UUID, actor: ActorDep, session: SessionDep) -> None:
    """Remove an outage (not one inside a month closed by a final invoice)."""
    pricebook.delete_outage(session, actor, outage)
