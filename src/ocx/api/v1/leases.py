"""Leases: a project's time on a node. They never overlap (409 names the lease in the way)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from ocx.api.deps import ActorDep, PageDep, SessionDep, declares
from ocx.api.pages import PageOut, page_out
from ocx.domain.baremetal import leases, schemas, views
from ocx.domain.baremetal.states import LeaseState
from ocx.domain.policy import Action

router = APIRouter(prefix="/leases", tags=["bare metal"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=schemas.LeasePublic,
             **declares(Action.LEASE_CREATE))
def create_lease(body: schemas.LeaseCreate, actor: ActorDep,
                 session: SessionDep) -> schemas.LeasePublic:
    """Lease a node under an offer for your project (PI, managers)."""
    return views.lease(leases.create_lease(session, actor, body))


@router.get("", response_model=PageOut[schemas.LeasePublic], **declares(Action.LEASE_LIST))
def list_leases(
    actor: ActorDep, session: SessionDep, page: PageDep,
    project: Annotated[str | None, Query(max_length=130)] = None,
    node: Annotated[str | None, Query(max_length=100)] = None,
    state: LeaseState | None = None,
) -> PageOut[schemas.LeasePublic]:
    """Leases of your projects and of your organization's nodes (operators: all)."""
    found = leases.list_leases(session, actor, cursor=page.cursor, limit=page.limit,
                               project=project, node=node, state=state)
    return page_out(found, views.lease)


@router.get("/{lease_id}", response_model=schemas.LeasePublic, **declares(Action.LEASE_READ))
def show_lease(lease_id: uuid.UUID, actor: ActorDep,
               session: SessionDep) -> schemas.LeasePublic:
    """One lease."""
    return views.lease(leases.get_lease(session, actor, str(lease_id)))


@router.post("/{lease_id}/cancel", response_model=schemas.LeasePublic,
             **declares(Action.LEASE_CANCEL))
def cancel_lease(lease_id: uuid.UUID, actor: ActorDep,
                 session: SessionDep) -> schemas.LeasePublic:
    """Cancel a future lease, or end an active one now (the node is cleaned and returned)."""
    return views.lease(leases.cancel_lease(session, actor, str(lease_id)))


@router.post("/{lease_id}/extend", response_model=schemas.LeasePublic,
             **declares(Action.LEASE_EXTEND))
def extend_lease(lease_id: uuid.UUID, body: schemas.LeaseExtend, actor: ActorDep,
                 session: SessionDep) -> schemas.LeasePublic:
    """Move a lease's end later, within its offer and before the node's next lease."""
    return views.lease(leases.extend_lease(session, actor, str(lease_id), body))


@router.post("/{lease_id}/reclaim", response_model=schemas.LeasePublic,
             **declares(Action.LEASE_RECLAIM))
def reclaim_lease(lease_id: uuid.UUID, body: schemas.LeaseReclaim, actor: ActorDep,
                  session: SessionDep) -> schemas.LeasePublic:
    """End a lease now to give the node back to its owner (operators; audited with why)."""
    return views.lease(leases.reclaim_lease(session, actor, str(lease_id), body))
