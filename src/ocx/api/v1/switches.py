"""Switches of owner organizations, and their ports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from ocx.api.deps import ActorDep, PageDep, RuntimeDep, SessionDep, declares
from ocx.api.pages import PageOut, page_out
from ocx.domain.baremetal import inventory, schemas, views
from ocx.domain.policy import Action

router = APIRouter(prefix="/switches", tags=["bare metal"])
SwitchRef = Annotated[str, Path(max_length=130, description="switch id, name or SITE:NAME")]
PortRef = Annotated[str, Path(max_length=100, description="the port's name on the switch")]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=schemas.SwitchPublic,
             **declares(Action.SWITCH_CREATE))
def create_switch(body: schemas.SwitchCreate, actor: ActorDep, session: SessionDep,
                  runtime: RuntimeDep) -> schemas.SwitchPublic:
    """Register a switch and its driver settings (the owner's org admins, operators)."""
    return views.switch(inventory.create_switch(session, actor, runtime.drivers,
                                                runtime.sealer, body))


@router.get("", response_model=PageOut[schemas.SwitchPublic], **declares(Action.SWITCH_LIST))
def list_switches(
    actor: ActorDep, session: SessionDep, page: PageDep,
    site: Annotated[str | None, Query(max_length=100, description="only this site's")] = None,
) -> PageOut[schemas.SwitchPublic]:
    """Switches of the organizations you administer (operators: all)."""
    found = inventory.list_switches(session, actor, cursor=page.cursor, limit=page.limit,
                                    site=site)
    return page_out(found, views.switch)


@router.get("/{switch}", response_model=schemas.SwitchPublic, **declares(Action.SWITCH_READ))
def show_switch(switch: SwitchRef, actor: ActorDep,
                session: SessionDep) -> schemas.SwitchPublic:
    """One switch, with its ports and (masked) settings."""
    return views.switch(inventory.get_switch(session, actor, switch))


@router.patch("/{switch}", response_model=schemas.SwitchPublic,
              **declares(Action.SWITCH_UPDATE))
def update_switch(switch: SwitchRef, body: schemas.SwitchUpdate, actor: ActorDep,
                  session: SessionDep, runtime: RuntimeDep) -> schemas.SwitchPublic:
    """Change a switch's driver settings."""
    return views.switch(inventory.update_switch(session, actor, runtime.drivers,
                                                runtime.sealer, switch, body))


@router.delete("/{switch}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               **declares(Action.SWITCH_DELETE))
def delete_switch(switch: SwitchRef, actor: ActorDep, session: SessionDep) -> None:
    """Delete a switch no NIC is cabled to."""
    inventory.delete_switch(session, actor, switch)


@router.post("/{switch}/ports", status_code=status.HTTP_201_CREATED,
             response_model=schemas.SwitchPublic, **declares(Action.SWITCH_PORT_ADD))
def add_ports(switch: SwitchRef, body: schemas.PortsAdd, actor: ActorDep,
              session: SessionDep) -> schemas.SwitchPublic:
    """Add ports to a switch, named as the switch names them."""
    return views.switch(inventory.add_ports(session, actor, switch, body))


@router.delete("/{switch}/ports/{port}", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response, **declares(Action.SWITCH_PORT_REMOVE))
def remove_port(switch: SwitchRef, port: PortRef, actor: ActorDep, session: SessionDep) -> None:
    """Remove a port no NIC is cabled to."""
    inventory.remove_port(session, actor, switch, port)
