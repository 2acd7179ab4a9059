"""Operation handlers: what a worker does for each kind of operation.

A handler gets a snapshot of the operation (never a live row: no transaction stays
open while an outside system is called) and a context with the session factory and the
configured drivers. It loads what it needs by target id, calls a driver, and returns
the result to record. It raises ``DriverError`` to be retried, ``PermanentDriverError``
to fail. Registries are built by :func:`build_handlers`, one per worker runtime.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ocx.config import Settings
from ocx.domain.operations.models import Operation
from ocx.drivers.notifier import Notifier
from ocx.drivers.registry import DriverRegistry
from ocx.errors import PermanentDriverError
from ocx.persistence.sealed import Sealer


@dataclass(frozen=True)
class OperationRef:
    """What a handler is told about the operation it runs."""

    id: uuid.UUID
    kind: str
    target_type: str
    target_id: str
    idempotency_key: str
    attempts: int
    payload: dict[str, Any] = field(default_factory=dict)
    max_attempts: int = 1

    @property
    def last_attempt(self) -> bool:
        """Whether a failure now fails the operation for good."""
        return self.attempts >= self.max_attempts

    @classmethod
    def of(cls, op: Operation) -> OperationRef:
        """A detached snapshot of ``op``."""
        return cls(id=op.id, kind=op.kind, target_type=op.target_type, target_id=op.target_id,
                   idempotency_key=op.idempotency_key, attempts=op.attempts,
                   payload=dict(op.payload), max_attempts=op.max_attempts)


@dataclass(frozen=True)
class HandlerContext:
    """What handlers may use: short read sessions and the drivers."""

    sessions: sessionmaker[Session]
    notifier: Notifier
    drivers: DriverRegistry
    sealer: Sealer
    # The process's settings (image backends' settings are read from them); None in
    # unit tests that need none.
    settings: Settings | None = None


Handler = Callable[[HandlerContext, OperationRef], "dict[str, Any] | None"]


class HandlerRegistry:
    """Handlers by operation kind."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def register(self, kind: str, handler: Handler) -> None:
        """Add the handler of ``kind``; each kind has exactly one."""
        if kind in self._handlers:
            raise ValueError(f"operation kind {kind!r} already has a handler")
        self._handlers[kind] = handler

    def get(self, kind: str) -> Handler:
        """The handler of ``kind``.

        Raises:
            PermanentDriverError: no handler; retrying cannot help.
        """
        try:
            return self._handlers[kind]
        except KeyError:
            raise PermanentDriverError(f"no handler for operation kind {kind!r}") from None

    def kinds(self) -> list[str]:
        """Every kind with a handler, sorted."""
        return sorted(self._handlers)


def build_handlers() -> HandlerRegistry:
    """The handlers of every operation kind OCX journals."""
    # Imported here: handler modules import this one for its types.
    from ocx.domain.allocations import access, provisioning, reconciler
    from ocx.domain.allocations import service as allocations
    from ocx.domain.baremetal import handlers as baremetal
    from ocx.domain.billing import budgets
    from ocx.domain.identity import invitations
    from ocx.domain.identity import notifications as notify
    from ocx.domain.images import handlers as images
    from ocx.domain.images import provision as images_provision
    from ocx.domain.metering import collection as metering

    registry = HandlerRegistry()
    registry.register(notify.MEMBER_ADDED, notify.member_added)
    registry.register(notify.JOIN_REQUESTED, notify.join_requested)
    registry.register(invitations.SEND, invitations.send_invitation)
    baremetal.register(registry)
    images_provision.register(registry)
    images.register(registry)
    registry.register(allocations.APPLY, provisioning.apply)
    registry.register(allocations.RELEASE, provisioning.release)
    registry.register(access.CREDENTIALS, access.make_credentials)
    registry.register(access.DRIFT, access.report_drift)
    registry.register(reconciler.RECONCILE, reconciler.reconcile_offering)
    registry.register(metering.COLLECT, metering.collect_offering)
    registry.register(budgets.ALERT, budgets.send_alert)
    return registry
