"""RBAC expectations for the marketplace and allocations: org-<s> sells shop-<s>:offer-<s>,
and proj-<s> holds an allocation on it, so "own" admins are both provider and org admins."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from ocx.domain.allocations.models import Allocation, AllocationChange, ChangeKind, ChangeState
from ocx.domain.allocations.states import AllocationState
from ocx.domain.identity.models import Organization, User
from ocx.domain.marketplace.models import Offering, Provider
from ocx.domain.operations.models import Operation
from ocx.domain.operations.states import OperationState
from ocx.runtime import Runtime
from tests.support.rbac import Case, everyone, only
from tests.support.world import World

COMPONENTS = [{"name": "cores", "unit": "core", "max": 8, "default": 1}]


def _provider(runtime: Runtime, world: World, s: str) -> dict[str, str]:
    with runtime.sessions.begin() as session:
        session.add(Provider(organization_id=uuid.UUID(world.org_ids[s]), name=f"shop-{s}"))
    return {"provider": f"shop-{s}"}


def _shop(runtime: Runtime, world: World, s: str) -> dict[str, str]:
    with runtime.sessions.begin() as session:
        org = session.get(Organization, uuid.UUID(world.org_ids[s]))
        assert org is not None
        provider = Provider(organization_id=org.id, name=f"shop-{s}")
        session.add(provider)
        session.flush()
        session.add(Offering(provider_id=provider.id, name=f"offer-{s}", kind="openstack",
                             driver="fake", driver_settings={"cloud": f"rbac-{uuid.uuid4()}"},
                             components=COMPONENTS))
    return {"provider": f"shop-{s}", "offering": f"shop-{s}:offer-{s}"}


def _allocation(runtime: Runtime, world: World, s: str,
                state: AllocationState = AllocationState.ACTIVE) -> dict[str, str]:
    values = _shop(runtime, world, s)
    with runtime.sessions.begin() as session:
        offering = session.query(Offering).filter_by(name=f"offer-{s}").one()
        allocation = Allocation(
            project_id=uuid.UUID(world.project_ids[s]), offering_id=offering.id, state=state,
            quota={"cores": 1}, starts_at=datetime.now(UTC),
            external_id=None if state is AllocationState.REQUESTED else "fake-rbac")
        session.add(allocation)
        session.flush()
        change = AllocationChange(allocation_id=allocation.id, kind=ChangeKind.QUOTA,
                                  state=ChangeState.REQUESTED, quota={"cores": 2})
        session.add(change)
        session.flush()
        values |= {"allocation": str(allocation.id), "change": str(change.id)}
    return values


def _requested(runtime: Runtime, world: World, s: str) -> dict[str, str]:
    return _allocation(runtime, world, s, AllocationState.REQUESTED)


def _credentials_of_member(runtime: Runtime, world: World, s: str) -> dict[str, str]:
    values = _allocation(runtime, world, s)
    sealed = runtime.sealer.seal(json.dumps({"credential_id": "c1", "files": {"f": "x"},
                                             "hints": {}, "expires_at": None}))
    with runtime.sessions.begin() as session:
        member = session.query(User).filter_by(email=world[f"member_{s}"].email).one()
        op = Operation(kind="allocation.credentials", target_type="allocation",
                       target_id=values["allocation"], idempotency_key=f"rbac:{uuid.uuid4()}",
                       state=OperationState.DONE, attempts=1, max_attempts=1,
                       requested_by=member.id, result={"sealed": sealed})
        session.add(op)
        session.flush()
        values["operation"] = str(op.id)
    return values


def _offering_body(world: World, s: str) -> dict[str, Any]:
    return {"provider": f"shop-{s}", "name": "new-offer", "kind": "openstack",
            "driver": "fake", "components": COMPONENTS}


PROJECT_PEOPLE = ("admin", "pi", "manager", "member")
PROJECT_LEADS = ("pi", "manager")
A = "/allocations/{allocation}"

MARKET_CASES: dict[str, Case] = {
    "provider.create": Case("POST", "/providers", only(), sided=False,
                            body=lambda w, s: {"organization": "org-a", "name": "new-shop"}),
    "provider.list": Case("GET", "/providers", everyone, sided=False),
    "provider.read": Case("GET", "/providers/{provider}", everyone, setup=_shop),
    "provider.update": Case("PATCH", "/providers/{provider}", only("admin"), setup=_shop,
                            body=lambda w, s: {"description": "changed"}),
    "provider.delete": Case("DELETE", "/providers/{provider}", only(), setup=_provider),
    "offering.create": Case("POST", "/offerings", only("admin"), setup=_shop,
                            body=_offering_body),
    "offering.list": Case("GET", "/offerings", everyone, sided=False),
    "offering.read": Case("GET", "/offerings/{offering}", everyone, setup=_shop),
    "offering.update": Case("PATCH", "/offerings/{offering}", only("admin"), setup=_shop,
                            body=lambda w, s: {"description": "changed"}),
    "plan.create": Case("POST", "/offerings/{offering}/plans", only("admin"), setup=_shop,
                        body=lambda w, s: {"name": "p2"}),
    "plan.read": Case("GET", "/offerings/{offering}/plans", everyone, setup=_shop),
    "allocation.request": Case(
        "POST", "/allocations", only(*PROJECT_LEADS), setup=_shop,
        body=lambda w, s: {"project": w.project_ids[s], "offering": f"shop-{s}:offer-{s}"}),
    "allocation.list": Case("GET", "/allocations", everyone, sided=False),
    "allocation.read": Case("GET", A, only(*PROJECT_PEOPLE), setup=_allocation),
    "allocation.read/changes": Case("GET", A + "/changes", only(*PROJECT_PEOPLE),
                                    setup=_allocation),
    "allocation.decide/approve": Case("POST", A + "/approve", only("admin"), setup=_requested,
                                      body=lambda w, s: {}),
    "allocation.decide/deny": Case("POST", A + "/deny", only("admin"), setup=_requested,
                                   body=lambda w, s: {}),
    "allocation.decide/change-approve": Case(
        "POST", A + "/changes/{change}/approve", only("admin"), setup=_allocation,
        body=lambda w, s: {}),
    "allocation.decide/change-deny": Case(
        "POST", A + "/changes/{change}/deny", only("admin"), setup=_allocation,
        body=lambda w, s: {}),
    "allocation.change": Case("POST", A + "/changes", only(*PROJECT_LEADS), setup=_allocation,
                              body=lambda w, s: {"quota": {"cores": 2}}),
    "allocation.release": Case("POST", A + "/release", only("admin", *PROJECT_LEADS),
                               setup=_allocation),
    # Credentials are for the project's own people: not even operators get them.
    "allocation.credentials": Case("POST", A + "/credentials",
                                   lambda r, own: own and r in ("pi", "manager", "member"),
                                   setup=_allocation),
    "allocation.credentials/collect": Case(
        "POST", A + "/credentials/{operation}", lambda r, own: own and r == "member",
        setup=_credentials_of_member),
    "allocation.drift": Case("POST", A + "/drift", only("admin", *PROJECT_LEADS),
                             setup=_allocation),
}
