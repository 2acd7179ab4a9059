"""RBAC expectations for single sign-on: only operators connect an institution's SCIM client."""

from __future__ import annotations

from ocx.domain.actor import SYSTEM
from ocx.domain.identity import scim
from ocx.runtime import Runtime
from tests.support.rbac import Case, only
from tests.support.world import World


def _scim_token(runtime: Runtime, world: World, s: str) -> dict[str, str]:
    with runtime.sessions.begin() as session:
        token, _ = scim.create_token(session, SYSTEM, f"org-{s}", "rbac")
    return {"scim_token": str(token.id)}


SSO_CASES: dict[str, Case] = {
    "scim_token.create": Case("POST", "/organizations/{org}/scim-tokens", only(),
                              body=lambda w, s: {"name": "campus idm"}),
    "scim_token.list": Case("GET", "/organizations/{org}/scim-tokens", only()),
    "scim_token.revoke": Case("DELETE", "/organizations/{org}/scim-tokens/{scim_token}",
                              only(), setup=_scim_token),
}
