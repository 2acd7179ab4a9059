"""Project networks: a VLAN each, from the site's pool."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from ocx.api.deps import ActorDep, PageDep, SessionDep, declares
from ocx.api.pages import PageOut, page_out
from ocx.domain.baremetal import networks, schemas, views
from ocx.domain.policy import Action

router = APIRouter(prefix="/networks", tags=["bare metal"])
NetworkRef = Annotated[str, Path(max_length=200,
                                 description="network id, name, or PROJECT/NAME")]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=schemas.NetworkPublic,
             **declares(Action.NETWORK_CREATE))
def create_network(body: schemas.NetworkCreate, actor: ActorDep,
                   session: SessionDep) -> schemas.NetworkPublic:
    """Create a project network at a site; 409 when the site's VLAN pool is exhausted."""
    return views.network(networks.create_network(session, actor, body))


@router.get("", response_model=PageOut[schemas.NetworkPublic],
            **declares(Action.NETWORK_LIST))
def list_networks(
    actor: ActorDep, session: SessionDep, page: PageDep,
    project: Annotated[str | None, Query(max_length=130, description="only this project's")]
    = None,
) -> PageOut[schemas.NetworkPublic]:
    """Networks of the projects you are in or administer (operators: all)."""
    found = networks.list_networks(session, actor, cursor=page.cursor, limit=page.limit,
                                   project=project)
    return page_out(found, views.network)


@router.get("/{network:path}", response_model=schemas.NetworkPublic,
            **declares(Action.NETWORK_READ))
def show_network(network: NetworkRef, actor: ActorDep,
                 session: SessionDep) -> schemas.NetworkPublic:
    """One network."""
    return views.network(networks.get_network(session, actor, network))


@router.delete("/{network:path}", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response,
               **declares(Action.NETWORK_DELETE))
def delete_network(network: NetworkRef, actor: ActorDep, session: SessionDep) -> None:
    """Delete a network no node is connected to; its VLAN id goes back to the pool."""
    networks.delete_network(session, actor, network)
