"""Offers: an owner lends a node, or any node of a class, for a time window."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from ocx.api.deps import ActorDep, PageDep, SessionDep, declares
from ocx.api.pages import PageOut, page_out
from ocx.domain.baremetal import leases, schemas, views
from ocx.domain.policy import Action

router = APIRouter(prefix="/offers", tags=["bare metal"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=schemas.OfferPublic,
             **declares(Action.OFFER_CREATE))
def create_offer(body: schemas.OfferCreate, actor: ActorDep,
                 session: SessionDep) -> schemas.OfferPublic:
    """Offer a node or a resource class for a time window, to all or to one project."""
    return views.offer(leases.create_offer(session, actor, body))


@router.get("", response_model=PageOut[schemas.OfferPublic], **declares(Action.OFFER_LIST))
def list_offers(
    actor: ActorDep, session: SessionDep, page: PageDep,
    node: Annotated[str | None, Query(max_length=100)] = None,
    resource_class: Annotated[str | None, Query(max_length=63)] = None,
    include_past: Annotated[bool, Query(description="also withdrawn and ended ones")] = False,
) -> PageOut[schemas.OfferPublic]:
    """Current offers open to you (operators: all)."""
    found = leases.list_offers(session, actor, cursor=page.cursor, limit=page.limit, node=node,
                               resource_class=resource_class, include_past=include_past)
    return page_out(found, views.offer)


@router.get("/{offer_id}", response_model=schemas.OfferPublic, **declares(Action.OFFER_READ))
def show_offer(offer_id: uuid.UUID, actor: ActorDep,
               session: SessionDep) -> schemas.OfferPublic:
    """One offer."""
    return views.offer(leases.get_offer(session, actor, str(offer_id)))


@router.delete("/{offer_id}", response_model=schemas.OfferPublic,
               **declares(Action.OFFER_DELETE))
def withdraw_offer(offer_id: uuid.UUID, actor: ActorDep,
                   session: SessionDep) -> schemas.OfferPublic:
    """Withdraw an offer: no new leases under it (leases already made stay)."""
    return views.offer(leases.withdraw_offer(session, actor, str(offer_id)))
