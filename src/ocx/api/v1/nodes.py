"""Nodes: registering them (owners), using them (lessees during a lease, else owners).

Connecting, detaching, power and boot device answer 202 with the operation that calls
the switch or the BMC; follow it at ``/api/v1/operations/{id}``. A node takes one
operation at a time: another request meanwhile answers 409 naming the one in the way.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from ocx.api.deps import ActorDep, PageDep, RuntimeDep, SessionDep, declares
from ocx.api.pages import PageOut
from ocx.domain.baremetal import inventory, isolation, schemas, views
from ocx.domain.operations.schemas import OperationPublic
from ocx.domain.policy import Action

router = APIRouter(prefix="/nodes", tags=["bare metal"])
NodeRef = Annotated[str, Path(max_length=100, description="node id or name")]
NicRef = Annotated[str, Path(max_length=100, description="NIC name, MAC address or id")]
Filter = Annotated[str | None, Query(max_length=130)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=schemas.NodePublic,
             **declares(Action.NODE_CREATE))
def register_node(body: schemas.NodeCreate, actor: ActorDep, session: SessionDep,
                  runtime: RuntimeDep) -> schemas.NodePublic:
    """Register a node an organization lends, with its BMC (the owner's org admins)."""
    node = inventory.create_node(session, actor, runtime.drivers, runtime.sealer, body)
    return views.nodes(session, actor, [node])[0]


@router.get("", response_model=PageOut[schemas.NodePublic], **declares(Action.NODE_LIST))
def list_nodes(actor: ActorDep, session: SessionDep, page: PageDep, site: Filter = None,
               owner: Filter = None, resource_class: Filter = None,
               leased_by: Annotated[str | None, Query(
                   max_length=130, description="project holding a lease on them")] = None,
               ) -> PageOut[schemas.NodePublic]:
    """The exchange's nodes, optionally of one site, owner, class or leasing project."""
    found = inventory.list_nodes(session, actor, cursor=page.cursor, limit=page.limit,
                                 site=site, owner=owner, resource_class=resource_class,
                                 leased_by=leased_by)
    return PageOut[schemas.NodePublic](items=views.nodes(session, actor, found.items),
                                       next_cursor=found.next_cursor)


@router.get("/{node}", response_model=schemas.NodePublic, **declares(Action.NODE_READ))
def show_node(node: NodeRef, actor: ActorDep, session: SessionDep) -> schemas.NodePublic:
    """One node: NICs and their networks, power, lessee, and the operation holding it."""
    return views.nodes(session, actor, [inventory.get_node(session, actor, node)])[0]


@router.patch("/{node}", response_model=schemas.NodePublic, **declares(Action.NODE_UPDATE))
def update_node(node: NodeRef, body: schemas.NodeUpdate, actor: ActorDep, session: SessionDep,
                runtime: RuntimeDep) -> schemas.NodePublic:
    """Change a node's class, description or BMC (its owner while not leased)."""
    row = inventory.update_node(session, actor, runtime.drivers, runtime.sealer, node, body)
    return views.nodes(session, actor, [row])[0]


@router.delete("/{node}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               **declares(Action.NODE_DELETE))
def delete_node(node: NodeRef, actor: ActorDep, session: SessionDep) -> None:
    """Delete a node that was never leased and carries no network."""
    inventory.delete_node(session, actor, node)


@router.post("/{node}/nics", status_code=status.HTTP_201_CREATED,
             response_model=schemas.NodePublic, **declares(Action.NODE_NIC_ADD))
def add_nic(node: NodeRef, body: schemas.NicCreate, actor: ActorDep,
            session: SessionDep) -> schemas.NodePublic:
    """Add a NIC, cabled to a port of one of the owner's switches at the node's site."""
    return views.nodes(session, actor, [inventory.add_nic(session, actor, node, body)])[0]


@router.delete("/{node}/nics/{nic}", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response, **declares(Action.NODE_NIC_REMOVE))
def remove_nic(node: NodeRef, nic: NicRef, actor: ActorDep, session: SessionDep) -> None:
    """Remove a NIC that carries no network."""
    inventory.remove_nic(session, actor, node, nic)


@router.post("/{node}/connect", status_code=status.HTTP_202_ACCEPTED,
             response_model=OperationPublic, **declares(Action.NODE_CONNECT))
def connect(node: NodeRef, body: schemas.ConnectRequest, actor: ActorDep,
            session: SessionDep) -> OperationPublic:
    """Connect a NIC to a network of the node's user (its lessee during a lease)."""
    return OperationPublic.model_validate(isolation.connect(session, actor, node, body))


@router.post("/{node}/detach", status_code=status.HTTP_202_ACCEPTED,
             response_model=OperationPublic, **declares(Action.NODE_DETACH))
def detach(node: NodeRef, body: schemas.DetachRequest, actor: ActorDep,
           session: SessionDep) -> OperationPublic:
    """Detach a NIC from one network, or from all of them."""
    return OperationPublic.model_validate(isolation.detach(session, actor, node, body))


@router.post("/{node}/power", status_code=status.HTTP_202_ACCEPTED,
             response_model=OperationPublic, **declares(Action.NODE_POWER))
def power(node: NodeRef, body: schemas.PowerRequest, actor: ActorDep,
          session: SessionDep) -> OperationPublic:
    """Power a node on, off, cycle it, or read its power state through its BMC."""
    return OperationPublic.model_validate(isolation.power(session, actor, node, body))


@router.post("/{node}/boot-device", status_code=status.HTTP_202_ACCEPTED,
             response_model=OperationPublic, **declares(Action.NODE_BOOT_DEVICE))
def boot_device(node: NodeRef, body: schemas.BootDeviceRequest, actor: ActorDep,
                session: SessionDep) -> OperationPublic:
    """Make a node boot from PXE or its disk."""
    return OperationPublic.model_validate(isolation.set_boot_device(session, actor, node, body))
