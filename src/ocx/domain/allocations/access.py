"""Members' access to an allocation: credentials shown once, and drift checks on demand."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ocx.domain import policy
from ocx.domain.actor import Actor
from ocx.domain.allocations import provisioning
from ocx.domain.allocations.models import Allocation
from ocx.domain.allocations.schemas import CredentialsPublic
from ocx.domain.allocations.service import allocation_target, find_allocation
from ocx.domain.allocations.states import USABLE
from ocx.domain.audit import service as audit
from ocx.domain.operations import service as operations
from ocx.domain.operations.handlers import HandlerContext, OperationRef
from ocx.domain.operations.models import Operation
from ocx.domain.operations.states import OperationState
from ocx.domain.policy import Action
from ocx.errors import Conflict, NotFound, PermanentDriverError
from ocx.persistence.sealed import Sealer

CREDENTIALS, DRIFT = "allocation.credentials", "allocation.drift"


def issue_credentials(session: Session, actor: Actor, ref: str) -> Operation:
    """Ask for new credentials for oneself on an allocation (a worker makes them)."""
    allocation = find_allocation(session, ref)
    policy.authorize(actor, Action.ALLOCATION_CREDENTIALS, allocation_target(allocation))
    if allocation.state not in USABLE or allocation.external_id is None:
        raise Conflict(f"the allocation is {allocation.state.value}; credentials are issued "
                       "for active allocations only")
    return operations.enqueue(
        session, actor, kind=CREDENTIALS, target=("allocation", allocation.id),
        idempotency_key=f"{CREDENTIALS}:{allocation.id}:{actor.user_id}:{uuid.uuid4()}",
        payload={"user_id": str(actor.user_id)})


def make_credentials(ctx: HandlerContext, op: OperationRef) -> dict[str, Any]:
    """``allocation.credentials``: issue them on the provider, keep them only sealed."""
    with ctx.sessions() as session:
        allocation = session.get(Allocation, uuid.UUID(op.target_id))
        if allocation is None or allocation.external_id is None:
            raise PermanentDriverError("the allocation has no tenant on the provider")
        user = provisioning.members(session, allocation.project_id).get(op.payload["user_id"])
        if user is None:
            raise PermanentDriverError("the requester is no longer a member of the project")
        driver = provisioning.build_driver(ctx, allocation.offering)
        external_id = allocation.external_id
    issued = driver.issue_credentials(external_id, user)
    secret = json.dumps({"credential_id": issued.credential_id,
                         "files": {k: v.get_secret_value() for k, v in issued.files.items()},
                         "hints": dict(issued.hints),
                         "expires_at": issued.expires_at.isoformat() if issued.expires_at
                         else None})
    return {"sealed": ctx.sealer.seal(secret), "credential_id": issued.credential_id,
            "files": sorted(issued.files)}


def collect_credentials(session: Session, actor: Actor, sealer: Sealer, ref: str,
                        operation_id: uuid.UUID) -> CredentialsPublic:
    """The credentials an operation made for the actor, once; OCX then forgets them.

    Raises:
        NotFound: no such credentials operation of the actor's on this allocation.
        Conflict: not made yet, failed, or collected already.
    """
    allocation = find_allocation(session, ref)
    policy.authorize(actor, Action.ALLOCATION_CREDENTIALS, allocation_target(allocation))
    # Locked, so that two collections racing each other cannot both see the secret.
    op = session.get(Operation, operation_id, with_for_update=True)
    if (op is None or op.kind != CREDENTIALS or op.target_id != str(allocation.id)
            or op.requested_by != actor.user_id):
        raise NotFound("credentials not found")
    if op.state is not OperationState.DONE:
        raise Conflict(f"the credentials are not ready: the operation is {op.state.value}")
    result = dict(op.result or {})
    sealed = result.pop("sealed", None)
    if not sealed:
        raise Conflict("these credentials were collected already; issue new ones")
    opened = json.loads(sealer.unseal(sealed))
    op.result = result | {"collected": True}
    audit.record(session, actor, "allocation.credentials.collect", "allocation", allocation.id,
                 organization_id=allocation.project.organization_id,
                 changes={"credential_id": opened["credential_id"]})
    expires = opened["expires_at"]
    return CredentialsPublic(credential_id=opened["credential_id"], files=opened["files"],
                             hints=opened["hints"],
                             expires_at=datetime.fromisoformat(expires) if expires else None)


def check_drift(session: Session, actor: Actor, ref: str) -> Operation:
    """Ask a worker to compare the provider with OCX's wishes, changing nothing."""
    allocation = find_allocation(session, ref)
    policy.authorize(actor, Action.ALLOCATION_DRIFT, allocation_target(allocation))
    if allocation.external_id is None:
        raise Conflict(f"the allocation is {allocation.state.value} and has no tenant yet")
    return operations.enqueue(session, actor, kind=DRIFT, target=("allocation", allocation.id),
                              idempotency_key=f"{DRIFT}:{allocation.id}:{uuid.uuid4()}")


def report_drift(ctx: HandlerContext, op: OperationRef) -> dict[str, Any]:
    """``allocation.drift``: the differences between provider and OCX, without repairs."""
    with ctx.sessions() as session:
        allocation = session.get(Allocation, uuid.UUID(op.target_id))
        if allocation is None or allocation.external_id is None:
            raise PermanentDriverError("the allocation has no tenant on the provider")
        want = provisioning.desired(session, allocation)
        driver = provisioning.build_driver(ctx, allocation.offering)
        external_id = allocation.external_id
    found = provisioning.differences(want, driver.describe(external_id))
    return {"in_line": not found, "differences": found}



