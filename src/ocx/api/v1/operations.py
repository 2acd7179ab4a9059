"""Operations: the journal of calls to outside systems, and retrying failed ones."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from ocx.api.deps import ActorDep, PageDep, SessionDep, declares
from ocx.api.pages import PageOut, page_out
from ocx.domain.operations import service
from ocx.domain.operations.schemas import OperationPublic
from ocx.domain.operations.states import OperationState
from ocx.domain.policy import Action

router = APIRouter(prefix="/operations", tags=["operations"])


@router.get("", response_model=PageOut[OperationPublic], **declares(Action.OPERATION_LIST))
def list_operations(
    actor: ActorDep, session: SessionDep, page: PageDep,
    state: OperationState | None = None,
    kind: Annotated[str | None, Query(max_length=100, description="e.g. notify.member_added")]
    = None,
) -> PageOut[OperationPublic]:
    """Operations you requested, oldest first (operators: all)."""
    found = service.list_operations(session, actor, cursor=page.cursor, limit=page.limit,
                                    state=state, kind=kind)
    return page_out(found, OperationPublic.model_validate)


@router.get("/{operation_id}", response_model=OperationPublic,
            **declares(Action.OPERATION_READ))
def show_operation(operation_id: uuid.UUID, actor: ActorDep,
                   session: SessionDep) -> OperationPublic:
    """One operation: its state, attempts, last error and result."""
    return OperationPublic.model_validate(service.get_operation(session, actor, operation_id))


@router.post("/{operation_id}/retry", status_code=status.HTTP_202_ACCEPTED,
             response_model=OperationPublic, **declares(Action.OPERATION_RETRY))
def retry_operation(operation_id: uuid.UUID, actor: ActorDep,
                    session: SessionDep) -> OperationPublic:
    """Run a failed operation again, with a fresh set of attempts (operators)."""
    return OperationPublic.model_validate(service.retry(session, actor, operation_id))
