"""Every endpoint x role x own/other organization: allowed or denied, as declared here.

The expectations below are written independently of ``ocx.domain.policy`` so that a
change to the policy that is not also made here fails the test. A new endpoint
without an expectation fails ``test_every_endpoint_has_an_expectation``.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from ocx.domain.identity.models import User
from ocx.domain.operations.models import Operation, OperationState
from ocx.runtime import Runtime
from tests.integration.allocations.rbac_cases import SUSPENSION_CASES
from tests.integration.api.rbac_billing import BILLING_CASES
from tests.integration.api.rbac_budgets import BUDGET_CASES
from tests.integration.api.rbac_market import MARKET_CASES
from tests.integration.api.rbac_metering import METERING_CASES
from tests.integration.api.rbac_sso import SSO_CASES
from tests.integration.baremetal.rbac_cases import BAREMETAL_CASES
from tests.integration.images.rbac_cases import IMAGE_CASES
from tests.integration.images.rbac_provision import PROVISION_CASES
from tests.integration.onboarding.rbac_cases import ONBOARDING_CASES
from tests.support.rbac import LEADS, PROJECT_PEOPLE, Case, everyone, only
from tests.support.world import World

ROLES = ["operator", "admin", "pi", "manager", "member", "outsider"]
SIDES = ["own", "other"]
PUBLIC_PATHS = {"/api/v1/health", "/api/v1/auth/login", "/api/v1/me",
                # single sign-on: signing in is what proves who one is
                "/api/v1/sso/providers", "/api/v1/sso/device", "/api/v1/sso/device/token"}


CASES: dict[str, Case] = {
    "organization.create": Case("POST", "/organizations", only(), sided=False,
                                body=lambda w, s: {"name": "newco"}),
    "organization.list": Case("GET", "/organizations", everyone, sided=False),
    "organization.read": Case("GET", "/organizations/{org}", only(*PROJECT_PEOPLE)),
    "organization.update": Case("PATCH", "/organizations/{org}", only("admin"),
                                body=lambda w, s: {"description": "changed"}),
    "organization.delete": Case("DELETE", "/organizations/{org}", only()),
    "organization.member.list": Case("GET", "/organizations/{org}/members", only("admin")),
    "organization.member.add": Case("POST", "/organizations/{org}/members", only("admin"),
                                    body=lambda w, s: {"email": w["outsider"].email}),
    "organization.member.remove": Case("DELETE", "/organizations/{org}/members/{user}",
                                       only("admin")),
    "user.create": Case("POST", "/users", only("admin"),
                        body=lambda w, s: {"email": "new@x.example.org",
                                           "organization": f"org-{s}"}),
    "user.list": Case("GET", "/users", everyone, sided=False),
    "user.read": Case("GET", "/users/{user}", lambda r, own: r in ("operator",)
                      or (own and r in ("admin", "member"))),
    "user.update": Case("PATCH", "/users/{user}", lambda r, own: r == "operator"
                        or (own and r == "member"), body=lambda w, s: {"name": "Renamed"}),
    "project.create": Case("POST", "/projects", only("admin"),
                           body=lambda w, s: {"name": "new-proj", "organization": f"org-{s}"}),
    "project.list": Case("GET", "/projects", everyone, sided=False),
    "project.read": Case("GET", "/projects/{project}", only(*PROJECT_PEOPLE)),
    "project.update": Case("PATCH", "/projects/{project}", only(*LEADS),
                           body=lambda w, s: {"description": "changed"}),
    "project.delete": Case("DELETE", "/projects/{project}", only("admin")),
    "member.list": Case("GET", "/projects/{project}/members", only(*PROJECT_PEOPLE)),
    "member.add": Case("POST", "/projects/{project}/members", only(*LEADS),
                       body=lambda w, s: {"email": w["outsider"].email, "role": "member"}),
    "member.update": Case("PATCH", "/projects/{project}/members/{user}", only(*LEADS),
                          body=lambda w, s: {"role": "manager"}),
    "member.remove": Case("DELETE", "/projects/{project}/members/{user}", only(*LEADS)),
    "token.create": Case("POST", "/tokens", everyone, sided=False,
                         body=lambda w, s: {"name": "laptop"}),
    "token.list": Case("GET", "/tokens", everyone, sided=False),
    "token.revoke": Case("DELETE", "/tokens/{token}", lambda r, own: r == "operator"
                         or (own and r == "member")),
    "operation.list": Case("GET", "/operations", everyone, sided=False),
    "operation.read": Case("GET", "/operations/{operation}", lambda r, own: r == "operator"
                           or (own and r == "member")),
    "operation.retry": Case("POST", "/operations/{operation}/retry", only()),
    "audit.list": Case("GET", "/audit", lambda r, own: r in ("operator", "admin"), sided=False),
    **MARKET_CASES,
    **SUSPENSION_CASES,
    **SSO_CASES,
    **METERING_CASES,
    **BAREMETAL_CASES,
    **ONBOARDING_CASES,
    **BILLING_CASES,
    **BUDGET_CASES,
    **IMAGE_CASES,
    **PROVISION_CASES,
}


def _actor_key(role: str) -> str:
    return role if role in ("operator", "outsider") else f"{role}_a"


def _operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path, operation) for every /api/v1 endpoint, from the OpenAPI document."""
    return [(method.upper(), path, op) for path, item in app.openapi()["paths"].items()
            if path.startswith("/api/v1") for method, op in item.items()]


def _normalized(path: str) -> str:
    return path.replace("{token_id}", "{token}").replace("{operation_id}", "{operation}")


def test_every_endpoint_has_an_expectation(app: FastAPI) -> None:
    operations = _operations(app)
    undeclared = [f"{m} {p}" for m, p, op in operations
                  if p not in PUBLIC_PATHS and "x-ocx-action" not in op]
    assert undeclared == [], "endpoints without a policy action"
    declared = {(m, _normalized(p)): op["x-ocx-action"] for m, p, op in operations
                if "x-ocx-action" in op}
    # A case's label is its action, or "action/variant" when an action has several endpoints.
    cases = {(c.method, "/api/v1" + c.path.split("?")[0]): label.split("/")[0]
             for label, c in CASES.items()}
    assert sorted(set(declared) - set(cases)) == [], "endpoints without an RBAC expectation"
    assert sorted(set(cases) - set(declared)) == [], "expectations for missing endpoints"
    assert {k: declared[k] for k in cases} == cases, "cases naming the wrong action"


def _matrix() -> list[Any]:
    params = []
    for action, case in CASES.items():
        for role in ROLES:
            for side in SIDES if case.sided else ["own"]:
                params.append(pytest.param(action, role, side, id=f"{action}-{role}-{side}"))
    return params


def _token_of_member(client: TestClient, world: World, side: str) -> str:
    listing = client.get("/api/v1/tokens", headers=world[f"member_{side}"].headers)
    return str(listing.json()["items"][0]["id"])


def _failed_operation_of_member(client: TestClient, world: World, side: str) -> str:
    runtime = client.app.state.runtime
    with runtime.sessions() as session, session.begin():
        user = session.scalar(select(User).where(User.email == world[f"member_{side}"].email))
        op = Operation(kind="test.rbac", target_type="user", target_id=str(user.id),
                       idempotency_key=f"rbac:{uuid.uuid4()}", state=OperationState.FAILED,
                       attempts=1, max_attempts=1, requested_by=user.id, last_error="refused")
        session.add(op)
    return str(op.id)


@pytest.mark.parametrize(("action", "role", "side"), _matrix())
def test_rbac(client: TestClient, world: World, runtime: Runtime, action: str, role: str,
              side: str) -> None:
    case = CASES[action]
    s = "a" if side == "own" else "b"
    token_id = _token_of_member(client, world, s) if "{token}" in case.path else ""
    op_id = _failed_operation_of_member(client, world, s) if "{operation}" in case.path else ""
    values = {"org": f"org-{s}", "project": world.project_ids[s],
              "user": world[f"member_{s}"].email, "token": token_id, "operation": op_id}
    values |= case.setup(runtime, world, s) if case.setup else {}
    path = "/api/v1" + case.path.format(**values)
    body = case.body(world, s) if case.body else None
    if case.actor_body:
        body = case.actor_body(world, s, _actor_key(role))
    response = client.request(case.method, path, json=body,
                              headers=world[_actor_key(role)].headers)
    assert response.status_code < 500, response.text
    expected = case.allowed(role, side == "own")
    if expected:
        assert response.status_code not in (401, 403, 404), (
            f"{role} should be allowed to {action} ({side}): {response.text}")
        assert response.status_code < 400 or (action, response.status_code) == (
            "organization.delete", 409), response.text
    else:
        assert response.status_code in (403, 404), (
            f"{role} should be denied {action} ({side}): {response.status_code} {response.text}")
        assert response.json()["error"]["type"] in ("forbidden", "not_found")
