"""Dashboard area: a project's members and its budget (the PI / manager view).

``/projects/{id}/members`` lists the members; the project's leads (and the organization's
admins, and operators: whoever the domain's policy allows) also invite by email, decide
join requests, change expiries and remove members. ``/projects/{id}/budget`` shows the
monthly budget, this month's spending and the alerts sent, with a form to set it. Every
change goes through the same domain services as the API, inside a savepoint, so a refused
form changes nothing and re-renders with the domain's message and status.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Form, Path, Response
from pydantic import BaseModel, ValidationError

from ocx.api.deps import RuntimeDep
from ocx.domain import policy
from ocx.domain.billing import budgets
from ocx.domain.billing.budget_schemas import DEFAULT_THRESHOLDS, BudgetPublic, BudgetSet
from ocx.domain.identity import invitations, join_requests, service
from ocx.domain.identity.models import Membership, Project, ProjectRole
from ocx.domain.identity.onboarding_models import Invitation, JoinRequest
from ocx.domain.identity.onboarding_schemas import InvitationCreate, JoinDecision
from ocx.domain.identity.onboarding_states import InvitationState, RequestState
from ocx.domain.identity.schemas import MembershipUpdate
from ocx.domain.policy import Action, Target
from ocx.errors import Forbidden, InvalidInput, NotFound, OcxError
from ocx.persistence.base import utcnow
from ocx.web.dashboard.common import Page, SignedInDep
from ocx.web.deps import require_csrf

router = APIRouter(include_in_schema=False)
LIST_LIMIT = 200
ProjectRef = Annotated[str, Path(max_length=130, description="project id or ORG:NAME")]
TextField = Annotated[str, Form()]
ModelT = TypeVar("ModelT", bound=BaseModel)
FIELD_LABELS = {"email": "Email", "role": "Role", "membership_expires_at": "Expiry",
                "expires_at": "Expiry", "amount": "Amount", "currency": "Currency",
                "thresholds": "Thresholds", "note": "Note"}
CSRF = [Depends(require_csrf)]


# --- reading forms: every mistake becomes an InvalidInput with a message for people -----

def _validated(model: type[ModelT], **fields: Any) -> ModelT:
    """``model`` built from a form's fields; InvalidInput naming the fields otherwise."""
    try:
        return model(**fields)
    except ValidationError as exc:
        problems = [f"{FIELD_LABELS.get(str(error['loc'][0]), str(error['loc'][0]))}: "
                    f"{error['msg'].removeprefix('Value error, ')}"
                    for error in exc.errors(include_url=False, include_input=False)]
        raise InvalidInput("; ".join(problems)) from None


def parse_expiry(text: str) -> datetime | None:
    """A date typed in a form (``YYYY-MM-DD``) as the start of that day in UTC; empty is
    no expiry.

    Raises:
        InvalidInput: not a date, or not after today.
    """
    text = text.strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("Expiry: enter a date as YYYY-MM-DD, or leave it empty") from None
    expires_at = datetime.combine(day, time.min, UTC)
    if expires_at <= utcnow():
        raise InvalidInput("Expiry: the date must be after today")
    return expires_at


def parse_thresholds(text: str) -> list[int]:
    """Percentages typed as ``50, 80, 100``.

    Raises:
        InvalidInput: something that is not a whole number.
    """
    try:
        return [int(part) for part in re.split(r"[\s,;%]+", text) if part]
    except ValueError:
        raise InvalidInput("Thresholds: enter whole percentages separated by commas, "
                           "e.g. 50, 80, 100") from None


# --- what the members page shows -------------------------------------------------------

@dataclass(frozen=True)
class Permissions:
    """What the signed-in person may do on this project's members page."""

    manage: bool
    invite: bool
    decide: bool
    grantable: list[ProjectRole]


@dataclass
class InviteForm:
    """The invitation form's values, echoed back when it is refused."""

    email: str = ""
    role: str = ProjectRole.MEMBER.value
    expires_on: str = ""


@dataclass(frozen=True)
class MemberRow:
    """One member as the table shows them."""

    user_id: uuid.UUID
    email: str
    name: str
    role: ProjectRole
    expires_at: datetime | None
    editable: bool


@dataclass
class MembersView:
    """Everything the members page shows."""

    project: Project
    may: Permissions
    members: list[MemberRow]
    more_members: bool
    invitations: list[tuple[Invitation, InvitationState]] = field(default_factory=list)
    requests: list[JoinRequest] = field(default_factory=list)


def _may_grant(page: Page, target: Target, role: ProjectRole) -> bool:
    try:
        policy.authorize_grant(page.actor, target, role)
    except Forbidden:
        return False
    return True


def _permissions(page: Page, project: Project) -> Permissions:
    target = service.project_target(project)
    return Permissions(
        manage=policy.can(page.actor, Action.MEMBER_UPDATE, target),
        invite=policy.can(page.actor, Action.INVITATION_CREATE, target),
        decide=policy.can(page.actor, Action.JOIN_REQUEST_DECIDE, target),
        grantable=[role for role in ProjectRole if _may_grant(page, target, role)])


def _member_rows(page: Page, project: Project, may: Permissions,
                 rows: list[Membership]) -> list[MemberRow]:
    # Like the domain: people change their own membership only as operators or org admins.
    lead_of_self = page.actor.is_operator or policy.org_admin(page.actor,
                                                              service.project_target(project))
    return [MemberRow(user_id=row.user_id, email=row.user.email, name=row.user.name,
                      role=row.role, expires_at=row.expires_at,
                      editable=may.manage and row.role in may.grantable
                      and (row.user_id != page.actor.user_id or lead_of_self))
            for row in sorted(rows, key=lambda m: (-policy.RANK[m.role], m.user.email))]


def members_view(page: Page, project: Project) -> MembersView:
    """The members page of ``project`` as the signed-in person may see it."""
    may = _permissions(page, project)
    ref = str(project.id)
    found = service.list_members(page.db, page.actor, ref, cursor=None, limit=LIST_LIMIT)
    view = MembersView(project=project, may=may, more_members=bool(found.next_cursor),
                       members=_member_rows(page, project, may, found.items))
    if may.invite:
        sent = invitations.list_for_project(page.db, page.actor, ref, cursor=None,
                                            limit=LIST_LIMIT).items
        view.invitations = [(row, invitations.state_of(row)) for row in reversed(sent)]
    if may.decide:
        view.requests = join_requests.list_requests(
            page.db, page.actor, cursor=None, limit=LIST_LIMIT, state=RequestState.PENDING,
            project_id=project.id).items
    return view


def _project_page(page: Page, project_ref: str, template: str,
                  context_of: Callable[[Project], dict[str, Any]],
                  error: OcxError | None) -> Response:
    """``template`` for a project the person may see (404 otherwise); with ``error``,
    re-rendered with its message and status."""
    project = service.get_project(page.db, page.actor, project_ref)
    context = {"project": project, **context_of(project)}
    if error is not None:
        return page.failed(error, template, **context)
    return page.render(template, **context)


def _members_page(page: Page, project_ref: str, *, error: OcxError | None = None,
                  form: InviteForm | None = None) -> Response:
    """The members page; with ``error``, re-rendered with its message and status."""
    return _project_page(page, project_ref, "members/index.html", lambda project: {
        "view": members_view(page, project), "form": form or InviteForm()}, error)


def _attempt(page: Page, project_ref: str, change: Callable[[], str], *,
             form: InviteForm | None = None) -> Response:
    """Run ``change`` in a savepoint; go back to the members page with its message, or
    re-render the page with the domain's refusal (nothing changed)."""
    try:
        with page.db.begin_nested():
            project = service.get_project(page.db, page.actor, project_ref)
            message = change()
    except OcxError as exc:
        return _members_page(page, project_ref, error=exc, form=form)
    return page.redirect(f"/projects/{project.id}/members", message)


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d}" if moment else "no expiry"


# --- members: list, invite, revoke, decide, expiry, remove ------------------------------

@router.get("/projects/{project_id}/members")
def show_members(project_id: ProjectRef, page: SignedInDep) -> Response:
    """The project's members; its leads also invite, decide requests and manage members."""
    return _members_page(page, project_id)


@router.post("/projects/{project_id}/invitations", dependencies=CSRF)
def invite(project_id: ProjectRef, page: SignedInDep, runtime: RuntimeDep,
           email: TextField = "", role: TextField = ProjectRole.MEMBER.value,
           expires_on: TextField = "") -> Response:
    """Invite an email address into the project; the link is mailed to that address."""
    form = InviteForm(email=email.strip()[:320], role=role[:20], expires_on=expires_on[:20])

    def change() -> str:
        body = _validated(InvitationCreate, email=form.email, role=form.role,
                          membership_expires_at=parse_expiry(form.expires_on))
        row = invitations.create(page.db, page.actor, project_id, body, runtime.sealer,
                                 runtime.settings.public_url)
        return (f"Invitation sent to {row.email} as {row.role.value}: the link was mailed to "
                f"that address and works once, until {row.expires_at:%Y-%m-%d %H:%M} UTC.")

    return _attempt(page, project_id, change, form=form)


@router.post("/projects/{project_id}/invitations/{invitation_id}/revoke", dependencies=CSRF)
def revoke_invitation(project_id: ProjectRef, invitation_id: uuid.UUID,
                      page: SignedInDep) -> Response:
    """Revoke a pending invitation: its link stops working at once."""
    def change() -> str:
        row = invitations.revoke(page.db, page.actor, project_id, invitation_id)
        return f"The invitation of {row.email} was revoked."

    return _attempt(page, project_id, change)


@router.post("/projects/{project_id}/join-requests/{request_id}", dependencies=CSRF)
def decide_request(project_id: ProjectRef, request_id: uuid.UUID, page: SignedInDep,
                   decision: TextField = "", role: TextField = ProjectRole.MEMBER.value,
                   expires_on: TextField = "", note: TextField = "") -> Response:
    """Approve (the requester joins with the role chosen) or deny a join request."""
    def change() -> str:
        if decision not in ("approve", "deny"):
            raise InvalidInput("Choose Approve or Deny")
        project = service.get_project(page.db, page.actor, project_id)
        row = join_requests.get_request(page.db, page.actor, request_id)
        if row.project_id != project.id:
            raise NotFound("join_request not found")
        body = _validated(JoinDecision, approve=decision == "approve", role=role, note=note,
                          expires_at=parse_expiry(expires_on) if decision == "approve"
                          else None)
        join_requests.decide(page.db, page.actor, request_id, body)
        verb = f"joined as {body.role.value}" if body.approve else "was denied"
        return f"{row.user.email} {verb}."

    return _attempt(page, project_id, change)


@router.post("/projects/{project_id}/members/{user_id}/expiry", dependencies=CSRF)
def change_expiry(project_id: ProjectRef, user_id: uuid.UUID, page: SignedInDep,
                  expires_on: TextField = "") -> Response:
    """Set (or, left empty, remove) the date a member's role ends."""
    def change() -> str:
        body = MembershipUpdate(expires_at=parse_expiry(expires_on))
        row = service.update_member(page.db, page.actor, project_id, str(user_id), body)
        return f"{row.user.email}: membership ends {_when(row.expires_at)}."

    return _attempt(page, project_id, change)


@router.get("/projects/{project_id}/members/{user_id}/remove")
def confirm_removal(project_id: ProjectRef, user_id: uuid.UUID, page: SignedInDep) -> Response:
    """Ask before removing a member: their access on the providers goes with it."""
    project = service.get_project(page.db, page.actor, project_id)
    view = members_view(page, project)
    member = next((row for row in view.members if row.user_id == user_id), None)
    if member is None or not member.editable:
        return page.redirect(f"/projects/{project.id}/members",
                             "That member is not on the project, or you may not remove them.",
                             "error")
    return page.render("members/remove.html", project=project, member=member)


@router.post("/projects/{project_id}/members/{user_id}/remove", dependencies=CSRF)
def remove(project_id: ProjectRef, user_id: uuid.UUID, page: SignedInDep) -> Response:
    """Remove a member from the project (after the confirmation page)."""
    def change() -> str:
        user = service.find_user(page.db, user_id)
        service.remove_member(page.db, page.actor, project_id, str(user_id))
        return f"{user.email} was removed from the project."

    return _attempt(page, project_id, change)


# --- budget --------------------------------------------------------------------------

@dataclass
class BudgetForm:
    """The budget form's values (the budget's, or those typed and refused)."""

    amount: str = ""
    currency: str = "USD"
    thresholds: str = ", ".join(str(t) for t in DEFAULT_THRESHOLDS)

    @classmethod
    def of(cls, budget: BudgetPublic | None) -> BudgetForm:
        """The form filled in with ``budget`` (defaults when there is none)."""
        if budget is None:
            return cls()
        return cls(amount=f"{budget.amount:.2f}", currency=budget.currency,
                   thresholds=", ".join(str(t) for t in budget.thresholds))


@dataclass(frozen=True)
class ThresholdRow:
    """One alert threshold: where it lies, whether it was crossed and notified."""

    percent: int
    amount: str
    crossed: bool
    notified: bool


def _threshold_rows(budget: BudgetPublic) -> list[ThresholdRow]:
    return [ThresholdRow(percent=t, amount=f"{budget.amount * t / 100:,.2f}",
                         crossed=budget.percent >= t, notified=t in budget.notified)
            for t in budget.thresholds]


def _budget_context(page: Page, project: Project, form: BudgetForm | None) -> dict[str, Any]:
    try:
        budget: BudgetPublic | None = budgets.get_budget(page.db, page.actor, str(project.id))
    except NotFound:
        budget = None
    return {"budget": budget, "form": form or BudgetForm.of(budget),
            "rows": _threshold_rows(budget) if budget else [],
            "may_set": policy.can(page.actor, Action.BUDGET_SET,
                                  service.project_target(project))}


def _budget_page(page: Page, project_ref: str, *, error: OcxError | None = None,
                 form: BudgetForm | None = None) -> Response:
    """The budget page; with ``error``, re-rendered with its message and status."""
    return _project_page(page, project_ref, "members/budget.html",
                         lambda project: _budget_context(page, project, form), error)


@router.get("/projects/{project_id}/budget")
def show_budget(project_id: ProjectRef, page: SignedInDep) -> Response:
    """The project's monthly budget, this month's spending and the alerts sent."""
    return _budget_page(page, project_id)


@router.post("/projects/{project_id}/budget", dependencies=CSRF)
def set_budget(project_id: ProjectRef, page: SignedInDep, amount: TextField = "",
               currency: TextField = "USD", thresholds: TextField = "") -> Response:
    """Set or change the project's monthly budget and alert thresholds."""
    form = BudgetForm(amount=amount.strip()[:30], currency=currency.strip().upper()[:10],
                      thresholds=thresholds.strip()[:100])
    try:
        with page.db.begin_nested():
            body = _validated(BudgetSet, amount=form.amount or None, currency=form.currency,
                              thresholds=parse_thresholds(form.thresholds))
            saved = budgets.set_budget(page.db, page.actor, project_id, body)
    except OcxError as exc:
        return _budget_page(page, project_id, error=exc, form=form)
    return page.redirect(f"/projects/{saved.project_id}/budget",
                         f"Budget set: {saved.amount:,.2f} {saved.currency} a month, alerts at "
                         + ", ".join(f"{t}%" for t in saved.thresholds) + ".")
