"""Dashboard page of one operation, with live progress while a worker runs it (part of
the projects area; its router is included by ``projects``)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response

from ocx.domain.operations import service as operations
from ocx.domain.operations.models import Operation
from ocx.domain.operations.states import OperationState
from ocx.errors import NotFound
from ocx.web.dashboard.allocations import credentials_ready, operation_label
from ocx.web.dashboard.common import Page, SignedInDep

router = APIRouter(include_in_schema=False)
STEPS = ("queued", "running", "finished")
TARGET_PAGES = {"allocation": "/allocations/{}"}


def target_href(op: Operation) -> str | None:
    """The dashboard page of the operation's target, if it has one."""
    pattern = TARGET_PAGES.get(op.target_type)
    return pattern.format(op.target_id) if pattern else None


def _step(op: Operation) -> int:
    if op.state in (OperationState.DONE, OperationState.FAILED):
        return 2
    return 1 if op.state is OperationState.RUNNING else 0


def _context(page: Page, op: Operation) -> dict[str, Any]:
    live = op.state in (OperationState.PENDING, OperationState.RUNNING)
    return {"op": op, "label": operation_label(op), "target_href": target_href(op),
            "live": live, "steps": STEPS, "step": _step(op),
            "download": credentials_ready(op) and op.requested_by == page.actor.user_id}


def _find(page: Page, operation_id: str) -> Operation:
    try:
        ref = uuid.UUID(operation_id)
    except ValueError as exc:
        raise NotFound("operation not found") from exc
    return operations.get_operation(page.db, page.actor, ref)


def _render(page: Page, operation_id: str, template: str) -> Response:
    return page.render(template, **_context(page, _find(page, operation_id)))


@router.get("/operations/{operation_id}")
def operation_page(operation_id: str, page: SignedInDep) -> Response:
    """One operation of yours: what it does, its state and error, updated live."""
    return _render(page, operation_id, "projects/operation.html")


@router.get("/operations/{operation_id}/progress")
def operation_progress(operation_id: str, page: SignedInDep) -> Response:
    """The operation's progress (an htmx fragment, polled until it is done or failed)."""
    return _render(page, operation_id, "projects/_operation_progress.html")
