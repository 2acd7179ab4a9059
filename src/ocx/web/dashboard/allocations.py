"""Dashboard pages of one allocation: its state, quota, change requests, credentials and
operations (part of the projects area; its router is included by ``projects``)."""

from __future__ import annotations

import io
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ValidationError

from ocx.api.deps import RuntimeDep
from ocx.domain import policy
from ocx.domain.allocations import access, schemas, service
from ocx.domain.allocations.models import Allocation
from ocx.domain.allocations.states import USABLE, AllocationState
from ocx.domain.operations import service as operations
from ocx.domain.operations.models import Operation
from ocx.domain.operations.states import OperationState
from ocx.domain.policy import Action
from ocx.errors import InvalidInput, OcxError
from ocx.web.dashboard.common import Page, SignedInDep
from ocx.web.deps import require_csrf
from ocx.web.pages import SECURITY_HEADERS

router = APIRouter(include_in_schema=False)
S = AllocationState
# States a worker moves on by itself soon: the page keeps polling while in them.
SETTLING = frozenset({S.APPROVED, S.PROVISIONING, S.CHANGING, S.RELEASING})
OPERATIONS_SHOWN = 20
LABELS = {"allocation.apply": "Apply the allocation on the provider",
          "allocation.release": "Release the allocation",
          "allocation.credentials": "Issue credentials",
          "allocation.drift": "Compare the provider with OCX"}


async def form_fields(request: Request) -> dict[str, str]:
    """A form's text fields (for forms whose field names depend on the data)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


FieldsDep = Annotated[dict[str, str], Depends(form_fields)]


def invalid_form(exc: ValidationError) -> InvalidInput:
    """A form's pydantic errors as one message a person can act on."""
    parts = []
    for error in exc.errors()[:5]:
        field = ".".join(str(part) for part in error.get("loc", ()))
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        parts.append(f"{field}: {message}" if field else message)
    return InvalidInput("; ".join(parts) or "invalid input")


def parse_quota(fields: dict[str, str], names: list[str]) -> dict[str, int]:
    """The ``quota_<component>`` fields of a form that were filled in, as whole numbers.

    Raises:
        InvalidInput: a value is not a whole number of zero or more.
    """
    quota: dict[str, int] = {}
    for name in names:
        text = fields.get(f"quota_{name}", "").strip()
        if not text:
            continue
        if not text.isdigit():
            raise InvalidInput(f"quota: {name} must be a whole number of zero or more, "
                               f"not {text[:20]!r}")
        quota[name] = int(text)
    return quota


def parse_end(text: str) -> datetime | None:
    """A form's end date (YYYY-MM-DD) as midnight UTC; None when left empty.

    Raises:
        InvalidInput: not a date.
    """
    if not text.strip():
        return None
    try:
        return datetime.combine(date.fromisoformat(text.strip()), datetime.min.time(), UTC)
    except ValueError as exc:
        raise InvalidInput(f"end date: {text[:20]!r} is not a date (YYYY-MM-DD)") from exc


def operation_label(op: Operation) -> str:
    """What an operation does, in words."""
    return LABELS.get(op.kind, op.kind)


@dataclass(frozen=True)
class OperationRow:
    """One operation in a list: what it does and how it went."""

    op: Operation
    label: str


def operation_rows(found: list[Operation]) -> list[OperationRow]:
    """Operations with their labels, for ``operations_table``."""
    return [OperationRow(op, operation_label(op)) for op in found]


def allocation_operations(page: Page, allocation: Allocation) -> list[Operation]:
    """The allocation's operations the person may see (their own; operators: all)."""
    return operations.list_operations(
        page.db, page.actor, cursor=None, limit=OPERATIONS_SHOWN, newest_first=True,
        target=("allocation", allocation.id)).items


def _context(page: Page, allocation: Allocation) -> dict[str, Any]:
    target = service.allocation_target(allocation)
    ops = allocation_operations(page, allocation)
    return {
        "allocation": allocation, "project": allocation.project,
        "offering": allocation.offering, "components": allocation.offering.components,
        "changes": service.list_changes(page.db, page.actor, str(allocation.id)),
        "operations": operation_rows(ops), "settling": allocation.state in SETTLING,
        "can_change": policy.can(page.actor, Action.ALLOCATION_CHANGE, target),
        "can_credentials": (allocation.state in USABLE and policy.can(
            page.actor, Action.ALLOCATION_CREDENTIALS, target)),
        "ready_credentials": [op for op in ops if credentials_ready(op)],
        "today": datetime.now(UTC).date().isoformat(),
    }


def credentials_ready(op: Operation) -> bool:
    """Whether ``op`` made credentials that were not collected yet."""
    return (op.kind == access.CREDENTIALS and op.state is OperationState.DONE
            and bool((op.result or {}).get("sealed")))


def _show(page: Page, allocation_id: str, *, status: int = 200, **extra: Any) -> Response:
    allocation = service.get_allocation(page.db, page.actor, allocation_id)
    return page.render("projects/allocation.html", status=status,
                       **(_context(page, allocation) | extra))


@router.get("/allocations/{allocation_id}")
def allocation_page(allocation_id: str, page: SignedInDep) -> Response:
    """One allocation: state, quota, change requests, credentials and operations."""
    return _show(page, allocation_id)


@router.get("/allocations/{allocation_id}/status")
def allocation_status(allocation_id: str, page: SignedInDep, live: bool = False) -> Response:
    """The allocation's state (an htmx fragment polled while a worker moves it on); when it
    settles after polling, the whole page reloads to show what became possible."""
    allocation = service.get_allocation(page.db, page.actor, allocation_id)
    settling = allocation.state in SETTLING
    response = page.render("projects/_allocation_status.html", allocation=allocation,
                           settling=settling)
    if live and not settling:
        response.headers["HX-Refresh"] = "true"
    return response


@router.post("/allocations/{allocation_id}/changes", dependencies=[Depends(require_csrf)])
def request_change(allocation_id: str, page: SignedInDep, fields: FieldsDep) -> Response:
    """Ask for a new quota or a later end; re-shows the page with the reason if refused."""
    allocation = service.get_allocation(page.db, page.actor, allocation_id)
    try:
        body = _change_body(allocation, fields)
        with page.db.begin_nested():
            change, _ = service.request_change(page.db, page.actor, allocation_id, body)
    except OcxError as exc:
        return _show(page, allocation_id, status=exc.status, change_error=exc.message,
                     change_fields=fields)
    message = ("Change approved; it is being applied." if change.automatic
               else f"Change requested: {change.note or 'waiting for the provider'}.")
    return page.redirect(f"/allocations/{allocation.id}", message)


def _change_body(allocation: Allocation, fields: dict[str, str]) -> schemas.ChangeRequest:
    """The change request a form asks for: the quota values that differ, or a new end."""
    justification = fields.get("justification", "")
    try:
        if fields.get("kind") == "renewal":
            ends_at = parse_end(fields.get("ends_at", ""))
            if ends_at is None:
                raise InvalidInput("end date: choose the date the allocation should run to")
            return schemas.ChangeRequest(ends_at=ends_at, justification=justification)
        names = [c["name"] for c in allocation.offering.components]
        wanted = parse_quota(fields, names)
        quota = {k: v for k, v in wanted.items() if allocation.quota.get(k) != v}
        if not quota:
            raise InvalidInput("quota: change at least one value from the current quota")
        return schemas.ChangeRequest(quota=quota, justification=justification)
    except ValidationError as exc:
        raise invalid_form(exc) from exc


@router.post("/allocations/{allocation_id}/credentials", dependencies=[Depends(require_csrf)])
def issue_credentials(allocation_id: str, page: SignedInDep) -> Response:
    """Ask for new credentials for oneself; follow the operation making them."""
    op = access.issue_credentials(page.db, page.actor, allocation_id)
    return page.redirect(f"/operations/{op.id}",
                         "Credentials requested: download them here once they are made.")


@router.post("/allocations/{allocation_id}/credentials/{operation_id}",
             dependencies=[Depends(require_csrf)])
def download_credentials(allocation_id: str, operation_id: uuid.UUID, page: SignedInDep,
                         runtime: RuntimeDep) -> Response:
    """The credentials an operation made, as a file (several in one zip): once only."""
    issued = access.collect_credentials(page.db, page.actor, runtime.sealer,
                                        allocation_id, operation_id)
    allocation = service.get_allocation(page.db, page.actor, allocation_id)
    return credentials_file(issued.files, f"{allocation.project.name}-"
                                          f"{allocation.offering.name}-credentials.zip")


def credentials_file(files: dict[str, str], zip_name: str) -> Response:
    """``files`` as one attachment: the file itself when there is one, else a zip of all
    (they are shown once, so none may be left behind)."""
    if len(files) == 1:
        name, text = next(iter(files.items()))
        return _attachment(text.encode(), name, "text/plain; charset=utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, text in sorted(files.items()):
            bundle.writestr(name, text)
    return _attachment(buffer.getvalue(), zip_name, "application/zip")


def _attachment(content: bytes, filename: str, media_type: str) -> Response:
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in filename) or "credentials"
    headers = SECURITY_HEADERS | {"Content-Disposition": f'attachment; filename="{safe}"'}
    return Response(content, media_type=media_type, headers=headers)
