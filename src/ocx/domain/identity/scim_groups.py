"""SCIM 2.0 Groups: an institution's groups are projects of its organization.

A group's members are the project's members (added with the ``member`` role; the PI
and managers are set in OCX). Removing a member, or deleting the group, ends those
memberships through the lifecycle hook, so provider access goes with them.
"""

from __future__ import annotations

import re
import uuid

from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session

from ocx.domain.allocations.reconciler import members_changed
from ocx.domain.audit import service as audit
from ocx.domain.identity import lifecycle
from ocx.domain.identity.models import Membership, Project, ProjectRole, User
from ocx.domain.identity.schemas import Slug
from ocx.domain.identity.scim import ScimClient, equality_filter, get_user, page
from ocx.errors import Conflict, NotFound

_FILTER = re.compile(r'^\s*displayName\s+eq\s+"([^"]{1,63})"\s*$', re.IGNORECASE)
_SLUG = TypeAdapter(Slug)


def get_group(session: Session, client: ScimClient, group_id: str) -> Project:
    """One of the client organization's projects, by id. Raises NotFound."""
    try:
        wanted = uuid.UUID(group_id)
    except ValueError:
        raise NotFound("group not found") from None
    project = session.get(Project, wanted)
    if project is None or project.organization_id != client.organization.id:
        raise NotFound("group not found")
    return project


def list_groups(session: Session, client: ScimClient, filter_: str | None, start: int,
                count: int) -> tuple[int, list[Project]]:
    """The organization's projects (``displayName eq "..."`` is the one filter)."""
    stmt = select(Project).where(Project.organization_id == client.organization.id)
    if filter_:
        stmt = stmt.where(Project.name == equality_filter(_FILTER, filter_, "displayName",
                                                          "NAME"))
    return page(session, stmt, start, count, Project.created_at, Project.id)


def members_of(session: Session, project: Project) -> list[User]:
    """The project's members, oldest membership first."""
    return list(session.scalars(select(User).join(Membership, Membership.user_id == User.id)
                                .where(Membership.project_id == project.id)
                                .order_by(Membership.created_at)))


def create_group(session: Session, client: ScimClient, name: str, member_ids: list[str]
                 ) -> Project:
    """A new project in the client's organization, with ``member_ids`` as members."""
    slug = _SLUG.validate_python(name.lower())
    if session.scalar(select(Project.id).where(Project.organization_id == client.organization.id,
                                               Project.name == slug)):
        raise Conflict(f"a group named {slug} exists already")
    project = Project(organization_id=client.organization.id, name=slug)
    session.add(project)
    session.flush()
    audit.record(session, client.actor, "project.create", "project", project.id,
                 organization_id=client.organization.id, changes={"name": slug, "via": "scim"})
    change_members(session, client, project, add=member_ids, remove=[])
    return project


def change_members(session: Session, client: ScimClient, project: Project, *,
                   add: list[str], remove: list[str]) -> None:
    """Add and remove members by user id (users the client may see; adding twice is a no-op)."""
    for user_id in add:
        user, _ = get_user(session, client, user_id)
        if not user.is_active:
            raise Conflict(f"{user.email} is deactivated")
        if _membership(session, project, user) is None:
            row = Membership(project_id=project.id, user_id=user.id, role=ProjectRole.MEMBER)
            session.add(row)
            session.flush()
            audit.record(session, client.actor, "member.add", "membership", row.id,
                         organization_id=project.organization_id,
                         changes={"project": project.name, "email": user.email,
                                  "role": row.role, "via": "scim"})
            members_changed(session, client.actor, project.id)  # access on providers
    for user_id in remove:
        user, _ = get_user(session, client, user_id)
        ended = _membership(session, project, user)
        if ended is not None:
            _end(session, client, ended)


def delete_group(session: Session, client: ScimClient, project: Project) -> None:
    """Delete the project, ending each membership through the lifecycle hook first."""
    for row in list(project.memberships):
        _end(session, client, row)
    session.expire(project, ["memberships"])  # else the delete cascades to the ended rows
    audit.record(session, client.actor, "project.delete", "project", project.id,
                 organization_id=project.organization_id,
                 changes={"name": project.name, "via": "scim"})
    session.delete(project)


def _membership(session: Session, project: Project, user: User) -> Membership | None:
    return session.scalar(select(Membership).where(Membership.project_id == project.id,
                                                   Membership.user_id == user.id))


def _end(session: Session, client: ScimClient, row: Membership) -> None:
    audit.record(session, client.actor, "member.remove", "membership", row.id,
                 organization_id=row.project.organization_id,
                 changes={"project": row.project.name, "email": row.user.email,
                          "role": row.role, "via": "scim"})
    lifecycle.on_membership_ended(session, client.actor, row)
    session.delete(row)
    session.flush()
