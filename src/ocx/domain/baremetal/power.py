"""Power and boot-device operations: the handlers that call a node's BMC.

The node's power settings are opened (the password unsealed) only here, in the worker,
right before the call. Every outcome is written on the node: the state it reached, or
``power_error`` with the BMC's reason (cleared by the next success), so a dead BMC is
visible on the node itself and not only in its failed operation.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from ocx.domain.baremetal.models import Node
from ocx.domain.operations.handlers import HandlerContext, OperationRef
from ocx.drivers import stored_settings as driver_settings
from ocx.drivers.power import BootDevice, PowerAction, PowerDriver, PowerState
from ocx.errors import OcxError, PermanentDriverError
from ocx.persistence.base import utcnow
from ocx.persistence.db import transaction

T = TypeVar("T")


def _node(session: Session, node_id: uuid.UUID) -> Node:
    node = session.get(Node, node_id)
    if node is None:
        raise PermanentDriverError("the node no longer exists")
    return node


def with_bmc(ctx: HandlerContext, node_id: uuid.UUID, call: Callable[[PowerDriver], T]) -> T:
    """Run ``call`` on the node's power driver; flag the node if the BMC fails.

    Raises:
        DriverError, PermanentDriverError: the BMC failed (the node's ``power_error``
            now says why).
    """
    with ctx.sessions() as session:
        node = _node(session, node_id)
        driver_name, stored = node.power_driver, dict(node.power_settings)
    try:
        driver = driver_settings.build(ctx.drivers, ctx.sealer, PowerDriver, driver_name, stored)
        return call(driver)
    except OcxError as exc:
        with transaction(ctx.sessions) as session:
            _node(session, node_id).power_error = exc.message
        raise


def record_state(ctx: HandlerContext, node_id: uuid.UUID, *, power: PowerState | None = None,
                 boot: BootDevice | None = None) -> None:
    """What the BMC reported, and that it answered (clears ``power_error``)."""
    with transaction(ctx.sessions) as session:
        node = _node(session, node_id)
        node.power_error, node.power_checked_at = None, utcnow()
        if power is not None:
            node.power_state = power.value
        if boot is not None:
            node.boot_device = boot.value


def set_power(ctx: HandlerContext, op: OperationRef) -> dict[str, Any]:
    """``baremetal.node.power``: on, off, cycle, or read the state."""
    node_id, action = uuid.UUID(op.target_id), op.payload["action"]
    if action == "status":
        state = with_bmc(ctx, node_id, lambda bmc: bmc.power_state())
    else:
        state = with_bmc(ctx, node_id, lambda bmc: bmc.set_power(PowerAction(action)))
    record_state(ctx, node_id, power=state)
    return {"power_state": state.value}


def set_boot_device(ctx: HandlerContext, op: OperationRef) -> dict[str, Any]:
    """``baremetal.node.boot_device``: PXE or disk, persistent or for the next boot."""
    node_id, device = uuid.UUID(op.target_id), BootDevice(op.payload["device"])
    persistent = bool(op.payload.get("persistent", True))
    with_bmc(ctx, node_id, lambda bmc: bmc.set_boot_device(device, persistent))
    record_state(ctx, node_id, boot=device)
    return {"boot_device": device.value, "persistent": persistent}


def power_off(ctx: HandlerContext, node_id: uuid.UUID) -> PowerState:
    """Turn the node off (lease end) and record it."""
    state = with_bmc(ctx, node_id, lambda bmc: bmc.set_power(PowerAction.OFF))
    record_state(ctx, node_id, power=state)
    return state
