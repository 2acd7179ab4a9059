"""Bare-metal sites and their VLAN pools."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from ocx.api.deps import ActorDep, PageDep, SessionDep, declares
from ocx.api.pages import PageOut
from ocx.domain.baremetal import inventory, schemas, views
from ocx.domain.policy import Action

router = APIRouter(prefix="/sites", tags=["bare metal"])
SiteRef = Annotated[str, Path(max_length=100, description="site id or name")]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=schemas.SitePublic,
             **declares(Action.SITE_CREATE))
def create_site(body: schemas.SiteCreate, actor: ActorDep,
                session: SessionDep) -> schemas.SitePublic:
    """Create a site and the VLAN id pool of its networks (operators)."""
    site = inventory.create_site(session, actor, body)
    return views.sites(session, [site])[0]


@router.get("", response_model=PageOut[schemas.SitePublic], **declares(Action.SITE_LIST))
def list_sites(actor: ActorDep, session: SessionDep,
               page: PageDep) -> PageOut[schemas.SitePublic]:
    """Every site, with how many VLAN ids it gave out."""
    found = inventory.list_sites(session, actor, cursor=page.cursor, limit=page.limit)
    return PageOut[schemas.SitePublic](items=views.sites(session, found.items),
                                       next_cursor=found.next_cursor)


@router.get("/{site}", response_model=schemas.SitePublic, **declares(Action.SITE_READ))
def show_site(site: SiteRef, actor: ActorDep, session: SessionDep) -> schemas.SitePublic:
    """One site."""
    return views.sites(session, [inventory.get_site(session, actor, site)])[0]


@router.delete("/{site}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               **declares(Action.SITE_DELETE))
def delete_site(site: SiteRef, actor: ActorDep, session: SessionDep) -> None:
    """Delete a site with no switch, node or network left (operators)."""
    inventory.delete_site(session, actor, site)
