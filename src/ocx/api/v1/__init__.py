"""Version 1 of the API: one module per resource."""

from __future__ import annotations

from fastapi import APIRouter

from ocx.api.errors import ERROR_RESPONSES
from ocx.api.v1 import (
    audit,
    auth,
    health,
    operations,
    organizations,
    projects,
    tokens,
    users,
)


def build_router() -> APIRouter:
    """All /api/v1 routes."""
    router = APIRouter(responses=ERROR_RESPONSES)
    for module in (health, auth, organizations, users, projects, tokens, operations, audit):
        router.include_router(module.router)
    return router
