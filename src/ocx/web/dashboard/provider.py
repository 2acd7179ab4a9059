"""Dashboard area: the provider's pages.

``/provider`` shows the providers the signed-in person runs (operators: all of them) with
their offerings and plans, the allocation and change requests waiting for their decision,
the bare-metal nodes their organizations own with those nodes' leases, and a month's
revenue; ``/provider/offerings/{id}`` one offering's components, prices and allocations.
Approving or rejecting a request is a form post handled by the allocation service, which
checks the permission and writes the audit record.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Response

from ocx.domain.allocations import schemas as allocation_schemas
from ocx.domain.allocations import service as allocations
from ocx.domain.allocations.models import AllocationChange
from ocx.domain.allocations.states import AllocationState
from ocx.domain.baremetal import inventory, leases, views
from ocx.domain.billing import reports
from ocx.domain.billing.schemas import ShowbackRow
from ocx.domain.marketplace import service as marketplace
from ocx.domain.marketplace.models import Offering, Provider
from ocx.errors import Forbidden, InvalidInput, NotFound, OcxError
from ocx.persistence.pagination import Page as PageOf
from ocx.web.dashboard.common import Page, SignedInDep
from ocx.web.deps import require_csrf

router = APIRouter(include_in_schema=False)

LIST_LIMIT = 100
REASON_MAX = 4000
MONTH = re.compile(r"^(19|20)\d{2}-(0[1-9]|1[0-2])$")
INDEX, OFFERING = "provider/index.html", "provider/offering.html"
ProviderQuery = Annotated[str, Query(max_length=100)]
MonthQuery = Annotated[str, Query(max_length=20)]
FormText = Annotated[str, Form()]


@dataclass
class Listed:
    """Rows of a list the page shows, and whether there were more than it shows."""

    rows: list[Any] = field(default_factory=list)
    more: bool = False


@dataclass
class Overview:
    """Everything ``/provider`` shows for the providers in view and a month."""

    providers: list[Provider]
    shown: list[Provider]
    chosen: str
    month: str
    offerings: dict[uuid.UUID, Listed]
    requests: Listed
    changes: list[AllocationChange]
    nodes: Listed
    leases: Listed
    revenue: dict[uuid.UUID, list[ShowbackRow]]


def this_month() -> str:
    """The current month, YYYY-MM (UTC)."""
    return datetime.now(UTC).strftime("%Y-%m")


def _check_month(month: str) -> str:
    """``month`` if it is a YYYY-MM month (or empty: the page picks one)."""
    if month and not MONTH.match(month):
        raise InvalidInput(f"month: {month[:20]!r} is not a month; use YYYY-MM, "
                           "for example 2026-10")
    return month


def _providers_in_view(page: Page, chosen: str) -> tuple[list[Provider], list[Provider]]:
    """(the providers the actor runs, those the page shows: ``chosen``, or all of them).

    Raises:
        Forbidden: the actor runs no provider and administers no organization.
        NotFound: ``chosen`` is not one of the actor's providers.
    """
    actor = page.actor
    if not actor.is_operator and not actor.admin_org_ids():
        raise Forbidden("the provider pages are for the admins of a provider's "
                        "organization and for operators")
    providers = marketplace.providers_run_by(page.db, actor)
    if not chosen:
        return providers, providers
    shown = [p for p in providers if chosen in (p.name, str(p.id))]
    if not shown:
        raise NotFound(f"provider {chosen[:100]} not found among the providers you run")
    return providers, shown


def _owner_org_ids(page: Page, shown: list[Provider], chosen: str) -> list[str]:
    """The organizations whose nodes the page shows: the shown providers', and (without a
    chosen provider) every organization a non-operator administers."""
    orgs = {p.organization_id for p in shown}
    if not chosen and not page.actor.is_operator:
        orgs |= page.actor.admin_org_ids()
    return sorted(str(org) for org in orgs)


def _offerings(page: Page, provider: Provider) -> Listed:
    found = marketplace.list_offerings(page.db, page.actor, cursor=None, limit=LIST_LIMIT,
                                       provider=str(provider.id))
    return Listed(found.items, bool(found.next_cursor))


def _gathered(refs: list[str], fetch: Callable[[str], PageOf[Any]],
              show: Callable[[list[Any]], list[Any]] = list) -> Listed:
    """The first page of ``fetch(ref)`` for each of ``refs``, shown and put together."""
    listed = Listed()
    for ref in refs:
        found = fetch(ref)
        listed.rows += show(found.items)
        listed.more |= bool(found.next_cursor)
    return listed


def _requests(page: Page, shown: list[Provider]) -> Listed:
    """Allocation requests waiting for a decision, of each shown provider."""
    return _gathered([str(p.id) for p in shown], lambda provider: allocations.list_allocations(
        page.db, page.actor, cursor=None, limit=LIST_LIMIT, state=AllocationState.REQUESTED,
        provider=provider))


def _nodes(page: Page, owners: list[str]) -> Listed:
    """The nodes of each owner organization, with their lessees."""
    return _gathered(owners, lambda owner: inventory.list_nodes(
        page.db, page.actor, cursor=None, limit=LIST_LIMIT, owner=owner),
        lambda rows: views.nodes(page.db, page.actor, rows))


def _leases(page: Page, owners: list[str]) -> Listed:
    """The leases of each owner organization's nodes."""
    return _gathered(owners, lambda owner: leases.list_leases(
        page.db, page.actor, cursor=None, limit=LIST_LIMIT, owner=owner),
        lambda rows: [views.lease(row) for row in rows])


def overview(page: Page, chosen: str, month: str) -> Overview:
    """What ``/provider`` shows, read through the domain services as the actor."""
    providers, shown = _providers_in_view(page, chosen)
    owners = _owner_org_ids(page, shown, chosen)
    return Overview(
        providers=providers, shown=shown, chosen=chosen, month=month,
        offerings={p.id: _offerings(page, p) for p in shown},
        requests=_requests(page, shown),
        changes=allocations.pending_changes(page.db, page.actor, limit=LIST_LIMIT,
                                            provider=str(shown[0].id) if chosen else None),
        nodes=_nodes(page, owners), leases=_leases(page, owners),
        revenue={p.id: reports.provider_revenue(page.db, page.actor, str(p.id), month)
                 for p in shown})


def _show_overview(page: Page, chosen: str, month: str, exc: OcxError | None = None
                   ) -> Response:
    """The overview, or the reason it cannot be shown; with ``exc``, re-rendered with the
    message of a form or filter that was refused."""
    shown = overview(page, chosen, month)
    if exc is not None:
        return page.failed(exc, INDEX, overview=shown)
    return page.render(INDEX, overview=shown)


@router.get("/provider")
def provider_home(page: SignedInDep, provider: ProviderQuery = "",
                  month: MonthQuery = "") -> Response:
    """The providers the signed-in person runs: offerings, requests, nodes and revenue."""
    try:
        month = _check_month(month) or _latest_month(page, provider)
    except InvalidInput as exc:
        return _show_overview(page, provider, this_month(), exc)
    return _show_overview(page, provider, month)


def _latest_month(page: Page, chosen: str) -> str:
    """The latest month with revenue of the providers shown; else the current month."""
    _, shown = _providers_in_view(page, chosen)
    refs = [str(p.id) for p in shown]
    return reports.latest_revenue_period(page.db, page.actor, refs) or this_month()


# --- one offering -------------------------------------------------------------------

def _managed_offering(page: Page, ref: str) -> Offering:
    """An offering the actor runs. Raises NotFound for any other (even a visible one)."""
    offering = marketplace.get_offering(page.db, page.actor, ref)
    if not marketplace.can_manage(page.actor, offering):
        raise NotFound("offering not found")
    return offering


@router.get("/provider/offerings/{offering_id}")
def offering_page(page: SignedInDep, offering_id: str) -> Response:
    """One offering the signed-in person runs: components, plans with prices, allocations."""
    offering = _managed_offering(page, offering_id)
    plans = marketplace.list_plans(page.db, page.actor, str(offering.id))
    found = allocations.list_allocations(page.db, page.actor, cursor=None, limit=LIST_LIMIT,
                                         offering=str(offering.id))
    return page.render(OFFERING, offering=offering, plans=plans,
                       allocations=Listed(found.items, bool(found.next_cursor)))


# --- decisions ----------------------------------------------------------------------

def _decision(decision: str, reason: str) -> tuple[bool, allocation_schemas.Decision]:
    """(approve?, the reason) from a decision form.

    Raises:
        InvalidInput: neither approve nor reject; a rejection without a reason; a reason
            that is too long.
    """
    if decision not in ("approve", "reject"):
        raise InvalidInput("decision: choose Approve or Reject")
    reason = reason.strip()
    if decision == "reject" and not reason:
        raise InvalidInput("reason: say why you reject the request; the requester reads it")
    if len(reason) > REASON_MAX:
        raise InvalidInput(f"reason: at most {REASON_MAX} characters")
    return decision == "approve", allocation_schemas.Decision(reason=reason)


def _decided(page: Page, what: str, approve: bool, back: str) -> Response:
    verb = "approved" if approve else "rejected"
    return page.redirect(back, f"{what} {verb}.")


def _back(provider: str, month: str) -> str:
    """The overview with the filters the form was sent from."""
    query = urlencode({key: value[:100] for key, value in
                       (("provider", provider), ("month", month)) if value})
    return "/provider" + (f"?{query}" if query else "")


@router.post("/provider/requests/{allocation_id}", dependencies=[Depends(require_csrf)])
def decide_request(page: SignedInDep, allocation_id: str, decision: FormText = "",
                   reason: FormText = "", provider: FormText = "",
                   month: FormText = "") -> Response:
    """Approve (a worker then provisions it) or reject an allocation request."""
    try:
        approve, body = _decision(decision, reason)
        with page.db.begin_nested():
            allocation, _ = allocations.decide(page.db, page.actor, allocation_id, approve,
                                               body)
    except OcxError as exc:
        return _show_overview(page, provider, _safe_month(month), exc)
    return _decided(page, f"The request of {allocations.label(allocation)} was", approve,
                    _back(provider, month))


@router.post("/provider/requests/{allocation_id}/changes/{change_id}",
             dependencies=[Depends(require_csrf)])
def decide_change(page: SignedInDep, allocation_id: str, change_id: str,
                  decision: FormText = "", reason: FormText = "",
                  provider: FormText = "", month: FormText = "") -> Response:
    """Approve (a worker then applies it) or reject an allocation's change request."""
    try:
        approve, body = _decision(decision, reason)
        change_uuid = _uuid(change_id, "change request")
        with page.db.begin_nested():
            change, _ = allocations.decide_change(page.db, page.actor, allocation_id,
                                                  change_uuid, approve, body)
    except OcxError as exc:
        return _show_overview(page, provider, _safe_month(month), exc)
    what = f"The {change.kind.value} change of {allocations.label(change.allocation)} was"
    return _decided(page, what, approve, _back(provider, month))


def _uuid(ref: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(ref)
    except ValueError:
        raise NotFound(f"{what} not found") from None


def _safe_month(month: str) -> str:
    return month if MONTH.match(month) else this_month()
