"""Allocations: requests, decisions, changes, release, credentials and drift."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from ocx.api.deps import ActorDep, PageDep, RuntimeDep, SessionDep, declares
from ocx.api.pages import PageOut, page_out
from ocx.domain.allocations import access, schemas, service
from ocx.domain.allocations.models import Allocation
from ocx.domain.allocations.states import AllocationState
from ocx.domain.operations.models import Operation
from ocx.domain.operations.schemas import OperationPublic
from ocx.domain.policy import Action

router = APIRouter(prefix="/allocations", tags=["allocations"])
AllocationId = Annotated[uuid.UUID, Path(description="allocation id")]


def allocation_out(allocation: Allocation, op: Operation | None = None
                   ) -> schemas.AllocationPublic:
    """The response shape of an allocation (and the operation a change started)."""
    project, offering = allocation.project, allocation.offering
    return schemas.AllocationPublic(
        id=allocation.id, project_id=project.id,
        project=f"{project.organization.name}:{project.name}", offering_id=offering.id,
        offering=f"{offering.provider.name}:{offering.name}", plan_id=allocation.plan_id,
        state=allocation.state, quota=allocation.quota, starts_at=allocation.starts_at,
        ends_at=allocation.ends_at, external_id=allocation.external_id,
        status_message=allocation.status_message, observed=allocation.observed,
        observed_at=allocation.observed_at, decided_at=allocation.decided_at,
        created_at=allocation.created_at, operation_id=op.id if op else None)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=schemas.AllocationPublic,
             **declares(Action.ALLOCATION_REQUEST))
def request_allocation(body: schemas.AllocationRequest, actor: ActorDep,
                       session: SessionDep) -> schemas.AllocationPublic:
    """Ask for a share of an offering for a project (PI, managers); approved at once when
    the offering's policy allows, and then provisioned by a worker (see operation_id)."""
    return allocation_out(*service.request(session, actor, body))


@router.get("", response_model=PageOut[schemas.AllocationPublic],
            **declares(Action.ALLOCATION_LIST))
def list_allocations(
    actor: ActorDep, session: SessionDep, page: PageDep,
    project: Annotated[str | None, Query(max_length=130)] = None,
    offering: Annotated[str | None, Query(max_length=130)] = None,
    state: AllocationState | None = None,
) -> PageOut[schemas.AllocationPublic]:
    """Allocations of your projects, and of the offerings you run (operators: all)."""
    found = service.list_allocations(session, actor, cursor=page.cursor, limit=page.limit,
                                     project=project, offering=offering, state=state)
    return page_out(found, allocation_out)


@router.get("/{allocation}", response_model=schemas.AllocationPublic,
            **declares(Action.ALLOCATION_READ))
def show_allocation(allocation: AllocationId, actor: ActorDep,
                    session: SessionDep) -> schemas.AllocationPublic:
    """One allocation, with what the provider last reported (observed)."""
    return allocation_out(service.get_allocation(session, actor, str(allocation)))


@router.post("/{allocation}/approve", response_model=schemas.AllocationPublic,
             **declares(Action.ALLOCATION_DECIDE))
def approve_allocation(allocation: AllocationId, body: schemas.Decision, actor: ActorDep,
                       session: SessionDep) -> schemas.AllocationPublic:
    """Approve a request; a worker provisions it (the provider's admins, operators)."""
    return allocation_out(*service.decide(session, actor, str(allocation), True, body))


@router.post("/{allocation}/deny", response_model=schemas.AllocationPublic,
             **declares(Action.ALLOCATION_DECIDE))
def deny_allocation(allocation: AllocationId, body: schemas.Decision, actor: ActorDep,
                    session: SessionDep) -> schemas.AllocationPublic:
    """Deny a request, with a reason (the provider's admins, operators)."""
    return allocation_out(*service.decide(session, actor, str(allocation), False, body))


@router.post("/{allocation}/disable", response_model=schemas.AllocationPublic,
             **declares(Action.ALLOCATION_DECIDE))
def disable_allocation(allocation: AllocationId, body: schemas.Decision, actor: ActorDep,
                       session: SessionDep) -> schemas.AllocationPublic:
    """Suspend an active allocation, saying why: a worker disables the tenant and revokes
    its credentials (the provider's admins, operators)."""
    return allocation_out(*service.set_enabled(session, actor, str(allocation), False, body))


@router.post("/{allocation}/enable", response_model=schemas.AllocationPublic,
             **declares(Action.ALLOCATION_DECIDE))
def enable_allocation(allocation: AllocationId, body: schemas.Decision, actor: ActorDep,
                      session: SessionDep) -> schemas.AllocationPublic:
    """Lift a suspension; members then ask for new credentials (the provider's admins,
    operators)."""
    return allocation_out(*service.set_enabled(session, actor, str(allocation), True, body))


@router.post("/{allocation}/release", status_code=status.HTTP_202_ACCEPTED,
             response_model=schemas.AllocationPublic, **declares(Action.ALLOCATION_RELEASE))
def release_allocation(allocation: AllocationId, actor: ActorDep,
                       session: SessionDep) -> schemas.AllocationPublic:
    """Give the allocation back; a worker deletes what OCX made on the provider."""
    return allocation_out(*service.release(session, actor, str(allocation)))


@router.post("/{allocation}/changes", status_code=status.HTTP_201_CREATED,
             response_model=schemas.ChangePublic, **declares(Action.ALLOCATION_CHANGE))
def request_change(allocation: AllocationId, body: schemas.ChangeRequest, actor: ActorDep,
                   session: SessionDep) -> schemas.ChangePublic:
    """Ask for a new quota (up or down) or a renewal (PI, managers)."""
    change, _ = service.request_change(session, actor, str(allocation), body)
    return schemas.ChangePublic.model_validate(change)


@router.get("/{allocation}/changes", response_model=list[schemas.ChangePublic],
            **declares(Action.ALLOCATION_READ))
def list_changes(allocation: AllocationId, actor: ActorDep,
                 session: SessionDep) -> list[schemas.ChangePublic]:
    """The allocation's change requests, oldest first."""
    return [schemas.ChangePublic.model_validate(c)
            for c in service.list_changes(session, actor, str(allocation))]


@router.post("/{allocation}/changes/{change}/approve", response_model=schemas.ChangePublic,
             **declares(Action.ALLOCATION_DECIDE))
def approve_change(allocation: AllocationId, change: uuid.UUID, body: schemas.Decision,
                   actor: ActorDep, session: SessionDep) -> schemas.ChangePublic:
    """Approve a change; a worker applies it on the provider."""
    decided, _ = service.decide_change(session, actor, str(allocation), change, True, body)
    return schemas.ChangePublic.model_validate(decided)


@router.post("/{allocation}/changes/{change}/deny", response_model=schemas.ChangePublic,
             **declares(Action.ALLOCATION_DECIDE))
def deny_change(allocation: AllocationId, change: uuid.UUID, body: schemas.Decision,
                actor: ActorDep, session: SessionDep) -> schemas.ChangePublic:
    """Deny a change request."""
    decided, _ = service.decide_change(session, actor, str(allocation), change, False, body)
    return schemas.ChangePublic.model_validate(decided)


@router.post("/{allocation}/credentials", status_code=status.HTTP_202_ACCEPTED,
             response_model=OperationPublic, **declares(Action.ALLOCATION_CREDENTIALS))
def issue_credentials(allocation: AllocationId, actor: ActorDep,
                      session: SessionDep) -> OperationPublic:
    """Ask for new credentials for yourself; collect them once the operation is done."""
    return OperationPublic.model_validate(
        access.issue_credentials(session, actor, str(allocation)))


@router.post("/{allocation}/credentials/{operation}", response_model=schemas.CredentialsPublic,
             **declares(Action.ALLOCATION_CREDENTIALS))
def collect_credentials(allocation: AllocationId, operation: uuid.UUID, actor: ActorDep,
                        session: SessionDep, runtime: RuntimeDep,
                        response: Response) -> schemas.CredentialsPublic:
    """Collect credentials made for you: shown in this response only, then forgotten."""
    response.headers["Cache-Control"] = "no-store"
    return access.collect_credentials(session, actor, runtime.sealer, str(allocation),
                                      operation)


@router.post("/{allocation}/drift", status_code=status.HTTP_202_ACCEPTED,
             response_model=OperationPublic, **declares(Action.ALLOCATION_DRIFT))
def check_drift(allocation: AllocationId, actor: ActorDep,
                session: SessionDep) -> OperationPublic:
    """Compare the provider with OCX without changing anything (see the operation's result)."""
    return OperationPublic.model_validate(access.check_drift(session, actor, str(allocation)))
