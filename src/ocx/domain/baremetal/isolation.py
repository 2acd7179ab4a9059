"""Connecting nodes to networks and detaching them (HIL's verbs), and powering them.

Each request checks who may use the node (its lessee during a lease, else its owner),
records the wish (an attachment row, or the power action), takes the node for one
operation and answers 202 with it. Port changes are queued per switch
(``PortChange``) and applied by ``switching`` in batches.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from ocx.domain import policy
from ocx.domain.actor import Actor
from ocx.domain.audit import service as audit
from ocx.domain.baremetal import access, locks, schemas
from ocx.domain.baremetal.models import (
    Lease,
    Network,
    NetworkAttachment,
    Nic,
    Node,
    PortChange,
)
from ocx.domain.baremetal.states import AttachmentMode, AttachmentState
from ocx.domain.identity import service as identity
from ocx.domain.operations import service as operations
from ocx.domain.operations.models import Operation
from ocx.domain.policy import Action
from ocx.errors import Conflict, Forbidden, InvalidInput, NotFound

NETWORK = "baremetal.node.network"
POWER = "baremetal.node.power"
BOOT_DEVICE = "baremetal.node.boot_device"
RELEASE = "baremetal.node.release"
# A dead BMC or switch should fail the operation in minutes, not after the default's hours.
MAX_ATTEMPTS = 4


def journal(session: Session, actor: Actor, node: Node, kind: str, payload: dict[str, Any],
            key: str | None = None) -> Operation:
    """Journal an operation on ``node`` and take the node for it.

    Raises:
        Conflict: another unfinished operation holds the node.
    """
    # Checked before journalling, so that a busy node costs no operation row (nor a
    # wake-up for one that a rollback removes); ``locks.take`` settles races.
    current = locks.holder(session, node)
    if current is not None and current.idempotency_key != key:
        raise Conflict(locks.busy_message(node, current))
    op = operations.enqueue(session, actor, kind=kind, target=("node", node.id),
                            idempotency_key=key or f"{kind}:{node.id}:{uuid.uuid4()}",
                            payload={"node": node.name, **payload}, max_attempts=MAX_ATTEMPTS)
    locks.take(session, node, op.id)
    return op


def _usable_node(session: Session, actor: Actor, ref: str, action: Action) -> Node:
    node = access.find_node(session, ref)
    policy.authorize(actor, action, access.node_target(session, node))
    return node


def _visible_network(session: Session, actor: Actor, ref: str, lease: Lease | None) -> Network:
    """The network ``ref`` names, if the actor may see it; otherwise the same 404 as for a
    network (or project) that does not exist, so nothing about other tenants leaks."""
    try:
        network = access.find_network(session, ref,
                                      project_id=lease.project_id if lease else None)
    except NotFound:
        raise NotFound("network not found") from None
    if not policy.can(actor, Action.NETWORK_READ, identity.project_target(network.project)):
        raise NotFound("network not found")
    return network


def _check_network(actor: Actor, node: Node, network: Network, lease: Lease | None) -> None:
    """A node may only join its user's networks at its own site (operators: any)."""
    if network.site_id != node.site_id:
        raise InvalidInput(f"network {network.name} is at another site than node {node.name}")
    if actor.is_operator:
        return
    if lease is not None:
        if network.project_id != lease.project_id:
            raise Forbidden(f"network {network.name} does not belong to the project leasing "
                            f"node {node.name}")
    elif network.project.organization_id != node.owner_org_id:
        raise Forbidden(f"network {network.name} does not belong to a project of node "
                        f"{node.name}'s owner")


def queue_port_change(session: Session, nic: Nic, operation_id: uuid.UUID) -> None:
    """Queue the NIC's switch port to be brought in line with its attachments."""
    if nic.port is None:
        raise Conflict(f"NIC {nic.name} is not cabled to a switch port")
    session.add(PortChange(switch_id=nic.port.switch_id, port_id=nic.port.id,
                           operation_id=operation_id))


def connect(session: Session, actor: Actor, ref: str, body: schemas.ConnectRequest
            ) -> Operation:
    """Connect a node's NIC to a network; 202 with the operation that configures the switch.

    Raises:
        Forbidden: the actor does not use the node now, or the network is not theirs.
        Conflict: already connected, an untagged network already on the NIC, node busy.
    """
    node = _usable_node(session, actor, ref, Action.NODE_CONNECT)
    nic = access.find_nic(session, node, body.nic)
    lease = access.active_lease(session, node)
    network = _visible_network(session, actor, body.network, lease)
    _check_network(actor, node, network, lease)
    if nic.port is None:
        raise Conflict(f"NIC {nic.name} is not cabled to a switch port")
    for existing in nic.attachments:
        if existing.network_id == network.id:
            raise Conflict(f"NIC {nic.name} already carries network {network.name}")
        if body.mode is AttachmentMode.ACCESS and existing.mode is AttachmentMode.ACCESS:
            raise Conflict(f"NIC {nic.name} already carries network {existing.network.name} "
                           "untagged; detach it first or connect this one tagged")
    op = journal(session, actor, node, NETWORK, {"connect": network.name, "nic": nic.name,
                                                 "vlan": network.vlan, "mode": body.mode.value})
    session.add(NetworkAttachment(nic_id=nic.id, network_id=network.id, mode=body.mode,
                                  state=AttachmentState.ATTACHING))
    queue_port_change(session, nic, op.id)
    audit.record(session, actor, "node.connect", "node", node.id,
                 organization_id=node.owner_org_id,
                 changes={"nic": nic.name, "network": network.name, "vlan": network.vlan,
                          "mode": body.mode, "operation": op.id})
    return op


def detach(session: Session, actor: Actor, ref: str, body: schemas.DetachRequest) -> Operation:
    """Detach a NIC from one network, or from all; 202 with the switch operation."""
    node = _usable_node(session, actor, ref, Action.NODE_DETACH)
    nic = access.find_nic(session, node, body.nic)
    chosen = [a for a in nic.attachments if a.state is not AttachmentState.DETACHING]
    if body.network is not None:
        chosen = [a for a in chosen if body.network in (a.network.name, str(a.network_id))]
    if not chosen:
        raise Conflict(f"NIC {nic.name} carries no such network")
    op = journal(session, actor, node, NETWORK, {"detach": [a.network.name for a in chosen],
                                                 "nic": nic.name})
    for attachment in chosen:
        attachment.state = AttachmentState.DETACHING
    queue_port_change(session, nic, op.id)
    audit.record(session, actor, "node.detach", "node", node.id,
                 organization_id=node.owner_org_id,
                 changes={"nic": nic.name, "networks": [a.network.name for a in chosen],
                          "operation": op.id})
    return op


def detach_everything(session: Session, node: Node, operation_id: uuid.UUID) -> list[str]:
    """Mark every attachment of the node for removal and queue its ports (lease end)."""
    detached: list[str] = []
    for nic in node.nics:
        live = [a for a in nic.attachments if a.state is not AttachmentState.DETACHING]
        for attachment in live:
            attachment.state = AttachmentState.DETACHING
            detached.append(f"{nic.name}:{attachment.network.name}")
        if nic.port is not None and nic.attachments:
            queue_port_change(session, nic, operation_id)
    return detached


def power(session: Session, actor: Actor, ref: str, body: schemas.PowerRequest) -> Operation:
    """Power a node on, off, cycle it, or read its state; 202 with the BMC operation."""
    node = _usable_node(session, actor, ref, Action.NODE_POWER)
    op = journal(session, actor, node, POWER, {"action": body.action.value})
    audit.record(session, actor, "node.power", "node", node.id,
                 organization_id=node.owner_org_id,
                 changes={"action": body.action, "operation": op.id})
    return op


def set_boot_device(session: Session, actor: Actor, ref: str,
                    body: schemas.BootDeviceRequest) -> Operation:
    """Choose the device a node boots from; 202 with the BMC operation."""
    node = _usable_node(session, actor, ref, Action.NODE_BOOT_DEVICE)
    op = journal(session, actor, node, BOOT_DEVICE,
                 {"device": body.device.value, "persistent": body.persistent})
    audit.record(session, actor, "node.boot_device", "node", node.id,
                 organization_id=node.owner_org_id,
                 changes={"device": body.device, "persistent": body.persistent,
                          "operation": op.id})
    return op

