"""Liveness and database reachability."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from ocx import __version__
from ocx.api.deps import SessionDep
from ocx.persistence.db import ping

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    version: str
    database: str


@router.get("/health", response_model=Health)
def health(session: SessionDep) -> Health:
    """Whether the server is up and reaches its database (no authentication)."""
    return Health(status="ok", version=__version__, database=ping(session))
