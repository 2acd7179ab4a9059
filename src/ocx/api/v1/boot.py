"""Diskless boot: provisioning a node from an image (``/api/v1/nodes/{node}/provision``),
and what nodes fetch while they network-boot (``/boot/...``, outside /api/v1).

The ``/boot`` routes are unauthenticated (a PXE client has no credentials); they answer
only what ``ocx.domain.images.boot`` allows: the boot script of a node that is mapped
to an exported clone now, and the kernel and initrd every node uses.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, status
from fastapi.responses import FileResponse, PlainTextResponse

from ocx.api.deps import ActorDep, RuntimeDep, SessionDep, declares
from ocx.domain.images import boot, provision
from ocx.domain.images.provision_schemas import (
    NodeDiskPublic,
    ProvisionRequest,
    UnprovisionRequest,
)
from ocx.domain.operations.schemas import OperationPublic
from ocx.domain.policy import Action
from ocx.errors import NotFound

router = APIRouter(prefix="/boot", tags=["network boot"], include_in_schema=False)
nodes_router = APIRouter(prefix="/nodes", tags=["bare metal"])
NodeRef = Annotated[str, Path(max_length=100, description="node id or name")]
IPXE = "text/plain; charset=utf-8"


@router.get("/chain.ipxe", response_class=PlainTextResponse)
def chain(request: Request) -> PlainTextResponse:
    """The DHCP boot file of every node: it fetches the node's own script by MAC."""
    return PlainTextResponse(boot.chain_script(str(request.base_url)), media_type=IPXE)


@router.get("/files/{name}", response_class=FileResponse)
def boot_file(name: Annotated[str, Path(max_length=100)], runtime: RuntimeDep) -> FileResponse:
    """The kernel or initrd every node boots (the same for all)."""
    return FileResponse(boot.boot_file(runtime.settings, name),
                        media_type="application/octet-stream")


@router.get("/{mac}.ipxe", response_class=PlainTextResponse)
def node_script(mac: Annotated[str, Path(max_length=20)], request: Request,
                session: SessionDep, runtime: RuntimeDep) -> PlainTextResponse:
    """The boot script of the node with this MAC, while it is mapped to an image."""
    try:
        script = boot.node_script(session, runtime.settings, str(request.base_url), mac)
    except NotFound:
        return PlainTextResponse(boot.NO_IMAGE, status_code=status.HTTP_404_NOT_FOUND,
                                 media_type=IPXE)
    return PlainTextResponse(script, media_type=IPXE, headers={"Cache-Control": "no-store"})


@nodes_router.post("/{node}/provision", status_code=status.HTTP_202_ACCEPTED,
                   response_model=OperationPublic, **declares(Action.NODE_PROVISION))
def provision_node(node: NodeRef, body: ProvisionRequest, actor: ActorDep,
                   session: SessionDep) -> OperationPublic:
    """Boot a node diskless from a fresh clone of an image (re-maps a provisioned node)."""
    return OperationPublic.model_validate(provision.provision(session, actor, node, body))


@nodes_router.get("/{node}/provision", response_model=NodeDiskPublic,
                  **declares(Action.NODE_PROVISION))
def show_provision(node: NodeRef, actor: ActorDep,
                   session: SessionDep) -> NodeDiskPublic:
    """What the node boots from now: its image, the mapping's state, its export."""
    return provision.describe(session, actor, node)


@nodes_router.post("/{node}/unprovision", status_code=status.HTTP_202_ACCEPTED,
                   response_model=OperationPublic, **declares(Action.NODE_UNPROVISION))
def unprovision_node(node: NodeRef, body: UnprovisionRequest, actor: ActorDep,
                     session: SessionDep) -> OperationPublic:
    """Power the node off and give its disk back (or keep it as a snapshot image)."""
    return OperationPublic.model_validate(provision.unprovision(session, actor, node, body))
