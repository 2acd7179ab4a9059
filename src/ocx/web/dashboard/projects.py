"""Dashboard area: projects and allocations, the researcher's view.

A project's overview, requesting an allocation from the marketplace, and what the home
page shows of them; one allocation's page (``allocations``) and one operation's live
progress (``operations``) are included in this area's router.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from fastapi import APIRouter, Depends, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from ocx.domain import policy
from ocx.domain.actor import Actor
from ocx.domain.allocations import schemas, service
from ocx.domain.allocations.models import Allocation
from ocx.domain.allocations.states import AllocationState
from ocx.domain.identity import service as identity
from ocx.domain.identity.models import Project
from ocx.domain.marketplace import service as marketplace
from ocx.domain.marketplace.models import Offering
from ocx.domain.operations import service as operations
from ocx.domain.policy import Action
from ocx.errors import InvalidInput, NotFound, OcxError
from ocx.web.dashboard import allocations
from ocx.web.dashboard import operations as operation_pages
from ocx.web.dashboard.allocations import (
    FieldsDep,
    OperationRow,
    invalid_form,
    operation_rows,
    parse_end,
    parse_quota,
)
from ocx.web.dashboard.common import Page, SignedInDep
from ocx.web.deps import require_csrf

router = APIRouter(include_in_schema=False)
router.include_router(allocations.router)
router.include_router(operation_pages.router)
LISTED = 100
RECENT_OPERATIONS = 8
# Settled for good: the home page leaves these out (the project page shows them).
GONE = frozenset({AllocationState.RELEASED, AllocationState.DENIED})


# --- what the home page shows ---------------------------------------------------------

def allocations_by_project(db: Session, actor: Actor) -> dict[uuid.UUID, list[Allocation]]:
    """The live allocations the person may see, by project id."""
    found = service.list_allocations(db, actor, cursor=None, limit=LISTED)
    grouped: dict[uuid.UUID, list[Allocation]] = defaultdict(list)
    for allocation in found.items:
        if allocation.state not in GONE:
            grouped[allocation.project_id].append(allocation)
    return grouped


def recent_operations(db: Session, actor: Actor, limit: int = RECENT_OPERATIONS
                      ) -> list[OperationRow]:
    """The person's own latest operations, newest first."""
    found = operations.list_operations(db, actor, cursor=None, limit=limit, mine=True,
                                       newest_first=True)
    return operation_rows(found.items)


# --- the project overview ---------------------------------------------------------------

def _project(page: Page, project_id: str) -> Project:
    """The project, if the person may see it (NotFound otherwise, as for a missing one)."""
    try:
        uuid.UUID(project_id)  # names are for the API: a page's link always has the id
    except ValueError:
        raise NotFound("project not found") from None
    return identity.get_project(page.db, page.actor, project_id)


@router.get("/projects/{project_id}")
def project_page(project_id: str, page: SignedInDep) -> Response:
    """A project: its allocations with their state and quota, and links to its members,
    budget and usage."""
    project = _project(page, project_id)
    found = service.list_allocations(page.db, page.actor, cursor=None, limit=LISTED,
                                     project=str(project.id))
    target = identity.project_target(project)
    return page.render("projects/project.html", project=project, allocations=found.items,
                       more=bool(found.next_cursor),
                       role=page.actor.project_roles.get(project.id),
                       can_request=policy.can(page.actor, Action.ALLOCATION_REQUEST, target))


# --- requesting an allocation -----------------------------------------------------------

def _request_context(page: Page, project: Project, offering_ref: str) -> dict[str, Any]:
    """The marketplace to choose from and, once chosen, the offering's plans and quota."""
    listed = marketplace.list_offerings(page.db, page.actor, cursor=None, limit=LISTED)
    offerings = [o for o in listed.items if o.is_active]
    chosen: Offering | None = None
    if offering_ref:
        chosen = next((o for o in offerings if str(o.id) == offering_ref), None)
        if chosen is None:
            raise InvalidInput("offering: choose one of the offerings listed")
    plans = marketplace.list_plans(page.db, page.actor, str(chosen.id)) if chosen else []
    return {"project": project, "offerings": offerings, "chosen": chosen, "plans": plans,
            "fields": {}}


def _request_page(page: Page, project_id: str, offering: str, *, status: int = 200,
                  **extra: Any) -> Response:
    project = _project(page, project_id)
    policy.authorize(page.actor, Action.ALLOCATION_REQUEST, identity.project_target(project))
    try:
        context = _request_context(page, project, offering)
    except OcxError as exc:
        return page.failed(exc, "projects/request.html", **_request_context(page, project, ""))
    return page.render("projects/request.html", status=status, **(context | extra))


@router.get("/projects/{project_id}/allocations/new")
def request_form(project_id: str, page: SignedInDep, offering: str = "") -> Response:
    """Choose an offering from the marketplace, then a plan, the quota and an end."""
    return _request_page(page, project_id, offering[:64])


@router.post("/projects/{project_id}/allocations/new", dependencies=[Depends(require_csrf)])
def request_allocation(project_id: str, page: SignedInDep, fields: FieldsDep) -> Response:
    """Ask for the allocation; on success go to its page, else show why on the form."""
    offering_ref = fields.get("offering", "")[:64]
    try:
        project = _project(page, project_id)
        offering = marketplace.get_offering(page.db, page.actor, offering_ref)
        body = _request_body(project, offering, fields)
        with page.db.begin_nested():
            allocation, op = service.request(page.db, page.actor, body)
    except OcxError as exc:
        return _request_page(page, project_id, offering_ref, status=exc.status,
                             error=exc.message, fields=fields)
    message = ("Allocation requested and approved; it is being provisioned." if op else
               "Allocation requested; it waits for the provider's approval.")
    return page.redirect(f"/allocations/{allocation.id}", message)


def _request_body(project: Project, offering: Offering,
                  fields: dict[str, str]) -> schemas.AllocationRequest:
    """The allocation request a form asks for."""
    names = [c["name"] for c in offering.components]
    try:
        return schemas.AllocationRequest(
            project=str(project.id), offering=str(offering.id),
            plan=fields.get("plan") or None, quota=parse_quota(fields, names),
            ends_at=parse_end(fields.get("ends_at", "")),
            justification=fields.get("justification", ""))
    except ValidationError as exc:
        raise invalid_form(exc) from exc
