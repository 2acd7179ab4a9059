"""The bare-metal operation kinds and their handlers."""

from __future__ import annotations

from typing import Any

from ocx.domain.baremetal import isolation, lifecycle, power, switching
from ocx.domain.operations.handlers import HandlerContext, HandlerRegistry, OperationRef


def network(ctx: HandlerContext, op: OperationRef) -> dict[str, Any]:
    """``baremetal.node.network``: apply the port changes a connect or detach queued."""
    return switching.apply_changes(ctx, op.id)


def register(registry: HandlerRegistry) -> None:
    """Add every bare-metal handler to ``registry``."""
    registry.register(isolation.NETWORK, network)
    registry.register(isolation.POWER, power.set_power)
    registry.register(isolation.BOOT_DEVICE, power.set_boot_device)
    registry.register(isolation.RELEASE, lifecycle.release_node)
