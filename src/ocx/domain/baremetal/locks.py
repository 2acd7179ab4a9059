"""One operation at a time per node: a compare-and-set on ``bm_nodes.locked_by``.

A service that journals an operation on a node takes the node for it in the same
transaction; the node is free again once that operation is done or failed (no
release step to forget, and a crashed worker's operation still ends in one of the
two). Two requests racing for an idle node both read the same holder, and only one
``UPDATE ... WHERE locked_by IS NOT DISTINCT FROM :seen`` matches: on PostgreSQL the
second waits for the first's row lock and then finds the value changed; on SQLite
writers are serialized. The loser answers 409 naming the operation in the way.

An operator may send a failed operation back to pending (``ocx operation retry``) long
after it let go of its node, so every bare-metal handler first makes sure its operation
holds the node (:func:`hold`): it takes the node again if it is free, and otherwise
waits (a temporary error, retried with backoff) for the operation in the way.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session

from ocx.domain.baremetal.models import Node
from ocx.domain.operations.models import Operation
from ocx.domain.operations.states import OperationState
from ocx.errors import Conflict, DriverError, PermanentDriverError

FINAL = (OperationState.DONE, OperationState.FAILED)


def holder(session: Session, node: Node) -> Operation | None:
    """The unfinished operation that holds the node, if any."""
    if node.locked_by is None:
        return None
    op = session.get(Operation, node.locked_by, populate_existing=True)
    return op if op is not None and op.state not in FINAL else None


def busy_message(node: Node, op: Operation) -> str:
    """Why the node cannot take another operation now."""
    return (f"node {node.name} is busy with operation {op.id} ({op.kind}, {op.state.value}); "
            "wait for it to finish (ocx operation wait)")


def take(session: Session, node: Node, operation_id: uuid.UUID) -> None:
    """Give the node to ``operation_id`` (idempotent for the operation that holds it).

    Raises:
        Conflict: another unfinished operation holds the node.
    """
    seen = node.locked_by
    if seen == operation_id:
        return
    current = holder(session, node)
    if current is not None:
        raise Conflict(busy_message(node, current))
    taken = session.execute(
        update(Node).where(Node.id == node.id, Node.locked_by.is_not_distinct_from(seen))
        .values(locked_by=operation_id).execution_options(synchronize_session=False))
    if cast(CursorResult[Any], taken).rowcount != 1:
        session.refresh(node)
        current = holder(session, node)
        raise Conflict(busy_message(node, current) if current is not None
                       else f"node {node.name} was just taken by another request; try again")
    session.refresh(node)


def hold(session: Session, node_id: uuid.UUID, operation_id: uuid.UUID) -> None:
    """Make sure ``operation_id`` holds the node before it calls the switch or the BMC.

    Raises:
        DriverError: another unfinished operation holds the node (retried later).
        PermanentDriverError: the node no longer exists.
    """
    node = session.get(Node, node_id)
    if node is None:
        raise PermanentDriverError("the node no longer exists")
    try:
        take(session, node, operation_id)
    except Conflict as exc:
        raise DriverError(exc.message) from None
