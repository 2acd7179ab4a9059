"""Who is acting: the authenticated user with their roles, resolved once per request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from ocx.domain.identity.roles import OrgRole, ProjectRole


@dataclass(frozen=True)
class Actor:
    """The caller of a service function. ``user_id`` is None only for the system itself."""

    user_id: uuid.UUID | None
    email: str
    is_operator: bool = False
    org_roles: dict[uuid.UUID, OrgRole] = field(default_factory=dict)
    project_roles: dict[uuid.UUID, ProjectRole] = field(default_factory=dict)
    # project id -> sponsoring organization id, for the projects in project_roles
    project_orgs: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    token_id: uuid.UUID | None = None
    request_id: str = "-"

    @property
    def label(self) -> str:
        """How the actor appears in logs and the audit trail."""
        return self.email or "system"

    def admin_org_ids(self) -> set[uuid.UUID]:
        """Organizations this actor administers."""
        return {org for org, role in self.org_roles.items() if role is OrgRole.ADMIN}

    def related_org_ids(self) -> set[uuid.UUID]:
        """Organizations the actor belongs to directly or through a project."""
        return set(self.org_roles) | set(self.project_orgs.values())


SYSTEM = Actor(user_id=None, email="system", is_operator=True)
