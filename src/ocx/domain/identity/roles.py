"""Role names, kept free of SQLAlchemy so that the CLI and client import them cheaply."""

from __future__ import annotations

from enum import StrEnum


class OrgRole(StrEnum):
    """A user's role in an organization (an institution or a provider)."""

    ADMIN = "admin"
    MEMBER = "member"


class ProjectRole(StrEnum):
    """A user's role in a project; PI outranks manager outranks member."""

    PI = "pi"
    MANAGER = "manager"
    MEMBER = "member"
