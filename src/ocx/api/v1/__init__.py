"""Version 1 of the API: one module per resource."""

from __future__ import annotations

from fastapi import APIRouter

from ocx.api.errors import ERROR_RESPONSES
from ocx.api.v1 import (
    allocations,
    audit,
    auth,
    health,
    leases,
    networks,
    nodes,
    offerings,
    offers,
    operations,
    organizations,
    projects,
    providers,
    scim,
    sites,
    sso,
    switches,
    tokens,
    users,
)


def build_router() -> APIRouter:
    """All /api/v1 routes."""
    router = APIRouter(responses=ERROR_RESPONSES)
    for module in (health, auth, organizations, users, projects, tokens, operations, audit,
                   providers, offerings, allocations, sso, scim, sites, switches, nodes, networks,
                   offers, leases):
        router.include_router(module.router)
    return router
