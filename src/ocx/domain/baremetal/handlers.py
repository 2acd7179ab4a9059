"""The bare-metal operation kinds and their handlers, each run holding its node."""

from __future__ import annotations

import uuid
from typing import Any

from ocx.domain.baremetal import isolation, lifecycle, locks, power, switching
from ocx.domain.operations.handlers import Handler, HandlerContext, HandlerRegistry, OperationRef
from ocx.persistence.db import transaction


def network(ctx: HandlerContext, op: OperationRef) -> dict[str, Any]:
    """``baremetal.node.network``: apply the port changes a connect or detach queued."""
    return switching.apply_changes(ctx, op.id)


def holding_the_node(handler: Handler) -> Handler:
    """``handler``, run only while its operation holds the node (see :func:`locks.hold`)."""

    def run(ctx: HandlerContext, op: OperationRef) -> dict[str, Any] | None:
        with transaction(ctx.sessions) as session:
            locks.hold(session, uuid.UUID(op.target_id), op.id)
        return handler(ctx, op)

    run.__doc__ = handler.__doc__
    return run


def register(registry: HandlerRegistry) -> None:
    """Add every bare-metal handler to ``registry``."""
    registry.register(isolation.NETWORK, holding_the_node(network))
    registry.register(isolation.POWER, holding_the_node(power.set_power))
    registry.register(isolation.BOOT_DEVICE, holding_the_node(power.set_boot_device))
    registry.register(isolation.RELEASE, holding_the_node(lifecycle.release_node))
