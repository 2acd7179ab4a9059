"""Version 1 of the API: one module per resource."""

from __future__ import annotations

from fastapi import APIRouter

from ocx.api.errors import ERROR_RESPONSES
from ocx.api.v1 import (
    allocations,
    audit,
    auth,
    boot,
    budgets,
    credits,
    health,
    images,
    invitations,
    invoices,
    join_requests,
    leases,
    networks,
    nodes,
    offerings,
    offers,
    onboarding_policies,
    operations,
    organizations,
    pi_eligibility,
    price_book,
    project_requests,
    projects,
    providers,
    scim,
    sites,
    sso,
    switches,
    terms,
    tokens,
    usage,
    users,
)


def build_router() -> APIRouter:
    """All /api/v1 routes."""
    router = APIRouter(responses=ERROR_RESPONSES)
    for module in (health, auth, organizations, users, projects, tokens, operations, audit,
                   providers, offerings, allocations, sso, scim, sites, switches, nodes, networks,
                   offers, leases, price_book, invoices, credits):
        router.include_router(module.router)
    router.include_router(invoices.reports_router)
    router.include_router(usage.router)
    router.include_router(boot.nodes_router)
    router.include_router(budgets.router)
    router.include_router(images.router)
    for onboarding in (terms, invitations, join_requests, pi_eligibility, project_requests,
                       onboarding_policies):
        router.include_router(onboarding.router)
    return router
