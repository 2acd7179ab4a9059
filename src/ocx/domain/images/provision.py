"""Provisioning a node from an image (BMI's "map"), and giving its disk back.

``ocx node provision NODE --image IMAGE`` journals one operation on the node (holding
it, like every bare-metal operation) whose handler runs these steps, each idempotent
and recorded on the node's ``NodeImage`` row as soon as it is done, so a worker that
crashes anywhere is followed by one that picks up where it stopped:

1. re-mapping (the node has a previous clone): power the node off, and give that
   clone back (kept as a snapshot if it was provisioned with ``--keep-snapshot``);
2. clone the image into ``n-<node>-<operation>`` (O(1); the name comes from the
   operation, so cloning again after a crash finds the same clone);
3. export the clone over NBD under that same name (the name is recorded first, so a
   crash after exporting can still unexport it); from now on ``/boot/<MAC>.ipxe``
   serves the boot script;
4. set the boot device to PXE, and power-cycle the node: it boots its clone;
5. mark the mapping active.

A step that fails for good (or on the last attempt) first removes what the earlier
steps made (the export, then the clone) and marks the mapping ``failed``: a failed
provisioning leaves nothing exported and no clone behind.

At the end of a lease (``baremetal.node.release``, after the node is powered off) and on
``ocx node unprovision``, the export is stopped and the clone removed, or kept as a
snapshot image of the lessee's project when the node was provisioned with
``--keep-snapshot``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ocx.config import Settings
from ocx.domain import policy
from ocx.domain.actor import Actor
from ocx.domain.audit import service as audit
from ocx.domain.baremetal import access, isolation, power
from ocx.domain.baremetal.handlers import holding_the_node
from ocx.domain.images import boot, library
from ocx.domain.images.backends import image_backend
from ocx.domain.images.models import Image, NodeImage
from ocx.domain.images.provision_schemas import (
    NodeDiskPublic,
    ProvisionRequest,
    UnprovisionRequest,
)
from ocx.domain.images.states import ImageKind, ImageState, NodeImageState
from ocx.domain.operations.handlers import HandlerContext, HandlerRegistry, OperationRef
from ocx.domain.operations.models import Operation
from ocx.domain.policy import Action
from ocx.drivers.export import Exporter, SourceFormat
from ocx.drivers.image import ImageBackend, ImageRef
from ocx.drivers.power import BootDevice, PowerAction, PowerState
from ocx.errors import (
    Conflict,
    DriverError,
    InvalidInput,
    NotFound,
    OcxError,
    PermanentDriverError,
)
from ocx.persistence.db import transaction

PROVISION = "images.node.provision"
UNPROVISION = "images.node.unprovision"


@dataclass(frozen=True)
class Disk:
    """A detached copy of a node's ``NodeImage`` row (no session stays open on drivers)."""

    node_name: str
    backend: str
    clone_ref: str | None
    export_name: str | None
    project_id: uuid.UUID | None
    image_id: uuid.UUID
    keep_snapshot: bool

    @classmethod
    def of(cls, row: NodeImage) -> Disk:
        """The row's copy."""
        return cls(node_name=row.node.name, backend=row.backend, clone_ref=row.clone_ref,
                   export_name=row.export_name, project_id=row.project_id,
                   image_id=row.image_id, keep_snapshot=row.keep_snapshot)


def disk_of(session: Session, node_id: uuid.UUID) -> NodeImage | None:
    """The node's mapping to an image, if any."""
    return session.scalar(select(NodeImage).where(NodeImage.node_id == node_id))


def disk_name(node_id: uuid.UUID, operation_id: uuid.UUID) -> str:
    """The clone's and the export's name: fixed by the operation, unguessable by others."""
    return f"n-{node_id.hex[:8]}-{operation_id.hex[:16]}"


# --- requests ----------------------------------------------------------------------------

def _bootable_image(session: Session, actor: Actor, ref: str,
                    project_id: uuid.UUID | None) -> Image:
    image = library.find_image(session, actor, ref, project_id=project_id)
    if project_id is not None and image.project_id not in (None, project_id):
        raise NotFound("image not found")  # another project's image: not for this lease
    if image.state is not ImageState.AVAILABLE or image.backend_ref is None:
        reason = f" ({image.error})" if image.error else ""
        raise Conflict(f"image {image.name} is {image.state.value}{reason}, not available; "
                       "nothing was cloned or exported")
    return image


def provision(session: Session, actor: Actor, ref: str, body: ProvisionRequest) -> Operation:
    """Map a node to an image (its lessee, or its owner between leases); 202 with the
    operation that clones, exports and boots it.

    Raises:
        NotFound: no such node, or no such image the actor may boot there.
        Forbidden: the actor does not use the node now (not its lessee).
        Conflict: the image is not available (upload failed, checksum mismatch), the
            node has no NIC, or another operation holds the node.
    """
    node = access.find_node(session, ref)
    policy.authorize(actor, Action.NODE_PROVISION, access.node_target(session, node))
    lease = access.active_lease(session, node)
    project_id = lease.project_id if lease is not None else None
    image = _bootable_image(session, actor, body.image, project_id)
    if not node.nics:
        raise Conflict(f"node {node.name} has no NIC to network-boot from")
    if body.keep_snapshot and project_id is None:
        raise InvalidInput("keep_snapshot keeps the disk as an image of the lessee's project; "
                           f"node {node.name} is not leased")
    op = isolation.journal(session, actor, node, PROVISION, {
        "image": image.name, "image_id": str(image.id), "keep_snapshot": body.keep_snapshot})
    disk = disk_of(session, node.id)
    if disk is None:
        session.add(NodeImage(node_id=node.id, image_id=image.id, project_id=project_id,
                              backend=image.backend, created_by=actor.user_id,
                              state=NodeImageState.PROVISIONING))
    else:  # re-mapping: the handler gives the previous clone back first
        disk.state, disk.error, disk.project_id = NodeImageState.PROVISIONING, None, project_id
    audit.record(session, actor, "node.provision", "node", node.id,
                 organization_id=node.owner_org_id,
                 changes={"image": image.name, "keep_snapshot": body.keep_snapshot,
                          "operation": op.id})
    return op


def unprovision(session: Session, actor: Actor, ref: str, body: UnprovisionRequest) -> Operation:
    """Power a node off and give its disk back (or keep it as a snapshot); 202.

    Raises:
        Forbidden: the actor does not use the node now.
        Conflict: the node boots from no image, or another operation holds it.
    """
    node = access.find_node(session, ref)
    policy.authorize(actor, Action.NODE_UNPROVISION, access.node_target(session, node))
    disk = disk_of(session, node.id)
    if disk is None:
        raise Conflict(f"node {node.name} is not provisioned from an image")
    if body.keep_snapshot and disk.project_id is None:
        raise InvalidInput(f"node {node.name} was not provisioned for a project's lease; "
                           "there is no project to keep a snapshot in")
    op = isolation.journal(session, actor, node, UNPROVISION,
                           {"keep_snapshot": body.keep_snapshot})
    if body.keep_snapshot is not None:
        disk.keep_snapshot = body.keep_snapshot
    disk.state = NodeImageState.RELEASING
    audit.record(session, actor, "node.unprovision", "node", node.id,
                 organization_id=node.owner_org_id,
                 changes={"keep_snapshot": disk.keep_snapshot, "operation": op.id})
    return op


def describe(session: Session, actor: Actor, ref: str) -> NodeDiskPublic:
    """What a node boots from now: image, state, export, error (the node's users)."""
    node = access.find_node(session, ref)
    policy.authorize(actor, Action.NODE_PROVISION, access.node_target(session, node))
    disk = disk_of(session, node.id)
    if disk is None:
        raise NotFound(f"node {node.name} is not provisioned from an image")
    return NodeDiskPublic(node=node.name, image=disk.image.name, image_id=disk.image_id,
                          state=disk.state, export_uri=disk.export_uri, error=disk.error,
                          keep_snapshot=disk.keep_snapshot)


# --- the worker's side ---------------------------------------------------------------------

def _settings(ctx: HandlerContext) -> Settings:
    return ctx.settings or Settings()


def _exporter(ctx: HandlerContext) -> Exporter:
    try:
        return boot.build_exporter(ctx.drivers, _settings(ctx))
    except InvalidInput as exc:
        raise PermanentDriverError(exc.message) from exc


def _backend(ctx: HandlerContext, name: str) -> ImageBackend:
    try:
        return image_backend(ctx, name)
    except InvalidInput as exc:
        raise PermanentDriverError(exc.message) from exc


def _update(ctx: HandlerContext, node_id: uuid.UUID, **values: Any) -> None:
    with transaction(ctx.sessions) as session:
        disk = disk_of(session, node_id)
        if disk is None:
            raise PermanentDriverError("the node's image mapping was removed")
        for name, value in values.items():
            setattr(disk, name, value)


def _keep_snapshot(ctx: HandlerContext, backend: ImageBackend, disk: Disk,
                   operation_id: uuid.UUID) -> str:
    """Freeze the clone into a snapshot image of the lessee's project; its name."""
    name = f"{disk.node_name}-{operation_id.hex[:8]}"
    kept = select(Image.id).where(Image.project_id == disk.project_id, Image.name == name)
    with ctx.sessions() as session:
        if session.scalar(kept) is not None:  # kept before a crash (the clone may be gone)
            return name
    ref = backend.snapshot(ImageRef(disk.clone_ref or ""), f"s-{operation_id.hex}")
    size = backend.size(ref)
    with transaction(ctx.sessions) as session:
        session.add(Image(project_id=disk.project_id, name=name, kind=ImageKind.SNAPSHOT,
                          backend=disk.backend, backend_ref=ref.key,
                          format=backend.export_format, size_bytes=size,
                          state=ImageState.AVAILABLE, parent_id=disk.image_id,
                          description=f"disk of node {disk.node_name}, kept at release"))
    return name


def give_back(ctx: HandlerContext, node_id: uuid.UUID, disk: Disk, operation_id: uuid.UUID, *,
              keep: bool) -> dict[str, Any]:
    """Stop the export and remove the clone (or snapshot it first); idempotent."""
    result: dict[str, Any] = {}
    if disk.export_name is not None:
        _exporter(ctx).unexport(disk.export_name)
        result["unexported"] = disk.export_name
    if disk.clone_ref is not None:
        backend = _backend(ctx, disk.backend)
        if keep and disk.project_id is not None:
            result["snapshot"] = _keep_snapshot(ctx, backend, disk, operation_id)
        backend.delete(ImageRef(disk.clone_ref))
        result["removed_clone"] = disk.clone_ref
    _update(ctx, node_id, clone_ref=None, export_name=None, export_uri=None)
    return result


def _fail(ctx: HandlerContext, node_id: uuid.UUID, op: OperationRef, error: str) -> None:
    """Undo what the provisioning made, and mark it failed with ``error``."""
    with ctx.sessions() as session:
        row = disk_of(session, node_id)
        disk = Disk.of(row) if row is not None else None
    if disk is not None:
        give_back(ctx, node_id, disk, op.id, keep=False)
        _update(ctx, node_id, state=NodeImageState.FAILED, error=error)


def _load(ctx: HandlerContext, node_id: uuid.UUID, image_id: uuid.UUID) -> tuple[Disk, Image]:
    with ctx.sessions() as session:
        row = disk_of(session, node_id)
        image = session.get(Image, image_id)
        if row is None:
            raise PermanentDriverError("the node's image mapping was removed")
        if image is None or image.state is not ImageState.AVAILABLE or not image.backend_ref:
            raise PermanentDriverError("the image was removed or is not available")
        session.expunge(image)
        return Disk.of(row), image


def _clone_and_export(ctx: HandlerContext, node_id: uuid.UUID, name: str, image: Image) -> str:
    """Steps 2 and 3: the clone and its export (each skipped when already done)."""
    with ctx.sessions() as session:
        row = disk_of(session, node_id)
        clone_ref = row.clone_ref if row is not None and row.export_name == name else None
    backend = _backend(ctx, image.backend)
    if clone_ref is None:
        clone_ref = backend.clone(ImageRef(image.backend_ref or ""), name).key
        _update(ctx, node_id, clone_ref=clone_ref, export_name=name)
    ref = ImageRef(clone_ref)
    try:
        source_format = SourceFormat(backend.export_format)
    except ValueError as exc:
        raise PermanentDriverError(f"no exporter reads {backend.export_format} images") from exc
    export = _exporter(ctx).export(name, backend.export_uri(ref), source_format)
    _update(ctx, node_id, export_uri=export.uri)
    return export.uri


def _boot(ctx: HandlerContext, node_id: uuid.UUID) -> PowerState:
    """Step 4: network boot from now on, and power-cycle."""
    power.with_bmc(ctx, node_id, lambda bmc: bmc.set_boot_device(BootDevice.PXE, True))
    power.record_state(ctx, node_id, boot=BootDevice.PXE)
    state = power.with_bmc(ctx, node_id, lambda bmc: bmc.set_power(PowerAction.CYCLE))
    power.record_state(ctx, node_id, power=state)
    return state


def provision_node(ctx: HandlerContext, op: OperationRef) -> dict[str, Any]:
    """``images.node.provision``: clone, export, boot (see the module docstring)."""
    node_id, image_id = uuid.UUID(op.target_id), uuid.UUID(op.payload["image_id"])
    name = disk_name(node_id, op.id)
    try:
        disk, image = _load(ctx, node_id, image_id)
        if disk.export_name != name and (disk.clone_ref or disk.export_name):
            # Re-mapping: the node stops using its previous disk before it goes.
            power.power_off(ctx, node_id)
            give_back(ctx, node_id, disk, op.id, keep=disk.keep_snapshot)
        _update(ctx, node_id, image_id=image.id, backend=image.backend,
                keep_snapshot=bool(op.payload.get("keep_snapshot")))
        export_uri = _clone_and_export(ctx, node_id, name, image)
        state = _boot(ctx, node_id)
    except OcxError as exc:
        if not isinstance(exc, DriverError) or isinstance(exc, PermanentDriverError) \
                or op.last_attempt:
            _fail(ctx, node_id, op, exc.message)
        raise
    _update(ctx, node_id, state=NodeImageState.ACTIVE, error=None)
    return {"image": image.name, "export_uri": export_uri, "power_state": state.value}


def release_disk(ctx: HandlerContext, node_id: uuid.UUID, operation_id: uuid.UUID,
                 keep: bool | None = None) -> dict[str, Any]:
    """Give the node's disk back (lease end, unprovision): the node must be off already."""
    with transaction(ctx.sessions) as session:
        row = disk_of(session, node_id)
        if row is None:
            return {}
        row.state = NodeImageState.RELEASING
        disk = Disk.of(row)
    result = give_back(ctx, node_id, disk, operation_id,
                       keep=disk.keep_snapshot if keep is None else keep)
    with transaction(ctx.sessions) as session:
        row = disk_of(session, node_id)
        if row is not None:
            session.delete(row)
    return result


def unprovision_node(ctx: HandlerContext, op: OperationRef) -> dict[str, Any]:
    """``images.node.unprovision``: power off, then give the disk back."""
    node_id = uuid.UUID(op.target_id)
    state = power.power_off(ctx, node_id)
    return {"power_state": state.value, **release_disk(ctx, node_id, op.id)}


def register(registry: HandlerRegistry) -> None:
    """Add the provisioning handlers (each holds its node, like the bare-metal ones)."""
    registry.register(PROVISION, holding_the_node(provision_node))
    registry.register(UNPROVISION, holding_the_node(unprovision_node))
