"""Identity rules: organizations, users, projects and memberships."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, joinedload

from ocx.domain import policy
from ocx.domain.actor import Actor
from ocx.domain.audit import service as audit
from ocx.domain.identity import lifecycle, schemas, tokens
from ocx.domain.identity import notifications as notify
from ocx.domain.identity.models import (
    Membership,
    Organization,
    OrgMembership,
    OrgRole,
    Project,
    ProjectRole,
    User,
)
from ocx.domain.identity.passwords import hash_password, verify_password
from ocx.domain.operations import service as operations
from ocx.domain.policy import Action, Target
from ocx.errors import Conflict, Forbidden, InvalidInput, NotFound
from ocx.persistence.base import as_uuid, utcnow
from ocx.persistence.db import flush_unique
from ocx.persistence.pagination import Page, paginate

RowT = TypeVar("RowT", Organization, User, Project, Membership)



def _unexpired(model: type[OrgMembership] | type[Membership]) -> ColumnElement[bool]:
    """Rows whose role has not ended (the expiry job deletes them soon after)."""
    return or_(model.expires_at.is_(None), model.expires_at > utcnow())


def _check_expiry(expires_at: datetime | None) -> None:
    """Refuse an expiry that has already passed (it would end the role at once)."""
    if expires_at is not None and expires_at <= utcnow():
        raise InvalidInput("expires_at must be in the future")


# --- lookups: by id, or by the name a person would type ------------------------------

def find_org(session: Session, ref: str | uuid.UUID) -> Organization:
    """An organization by id or name. Raises NotFound."""
    ref_id = as_uuid(ref)
    org = (session.get(Organization, ref_id) if ref_id
           else session.scalar(select(Organization).where(Organization.name == str(ref).lower())))
    if org is None:
        raise NotFound("organization not found")
    return org


def find_user(session: Session, ref: str | uuid.UUID) -> User:
    """A user by id or email. Raises NotFound."""
    ref_id = as_uuid(ref)
    user = (session.get(User, ref_id) if ref_id
            else session.scalar(select(User).where(User.email == str(ref).lower())))
    if user is None:
        raise NotFound("user not found")
    return user


def find_project(session: Session, ref: str | uuid.UUID, actor: Actor | None = None) -> Project:
    """A project by id, ``org:name`` (or ``org/name``), or a name unique among those the
    actor may see (all projects when no actor is given).

    Not-found answers are the same whether a project is missing or hidden, so that
    they reveal nothing about other organizations.

    Raises:
        NotFound: no such project.
        Conflict: the bare name matches several projects the actor may see.
    """
    ref_id = as_uuid(ref)
    if ref_id:
        project = session.get(Project, ref_id)
        if project is None:
            raise NotFound("project not found")
        return project
    stmt = select(Project).join(Organization)
    text = str(ref).lower().replace("/", ":")
    if ":" in text:
        org_name, _, name = text.partition(":")
        stmt = stmt.where(Organization.name == org_name, Project.name == name)
    else:
        stmt = stmt.where(Project.name == text)
    found = list(session.scalars(stmt))
    if actor is not None and len(found) > 1:
        found = [p for p in found
                 if policy.can(actor, Action.PROJECT_READ, project_target(p))]
    if not found:
        raise NotFound("project not found")
    if len(found) > 1:
        raise Conflict(f"several organizations have a project named {ref}; "
                       f"name it as ORGANIZATION:{ref}")
    return found[0]


def _user_org_ids(session: Session, user_id: uuid.UUID) -> frozenset[uuid.UUID]:
    rows = session.scalars(select(OrgMembership.organization_id).where(
        OrgMembership.user_id == user_id, _unexpired(OrgMembership)))
    return frozenset(rows)


def user_target(session: Session, user: User) -> Target:
    """The policy target for a user: themself and the organizations they belong to."""
    return Target(user_id=user.id, user_org_ids=_user_org_ids(session, user.id))


def project_target(project: Project) -> Target:
    """The policy target for a project."""
    return Target(org_id=project.organization_id, project_id=project.id)


# --- organizations --------------------------------------------------------------------

def create_org(session: Session, actor: Actor, body: schemas.OrganizationCreate) -> Organization:
    """Create an organization (operators)."""
    policy.authorize(actor, Action.ORG_CREATE)
    org = Organization(**body.model_dump())
    session.add(org)
    flush_unique(session, f"organization {body.name}")
    audit.record(session, actor, "organization.create", "organization", org.id,
                 organization_id=org.id, changes=body.model_dump())
    return org


def list_orgs(session: Session, actor: Actor, *, cursor: str | None, limit: int,
              name: str | None = None) -> Page[Organization]:
    """Organizations the actor may see, optionally filtered by name prefix."""
    policy.authorize(actor, Action.ORG_LIST)
    stmt = select(Organization)
    visible = policy.visible_org_ids(actor)
    if visible is not None:
        stmt = stmt.where(Organization.id.in_(visible))
    if name:
        stmt = stmt.where(Organization.name.startswith(name.lower(), autoescape=True))
    return paginate(session, stmt, Organization, cursor=cursor, limit=limit)


@dataclass(frozen=True)
class OrgCounts:
    """How big an organization is: its projects and its (unexpired) members."""

    projects: int = 0
    members: int = 0


def count_org_contents(session: Session, actor: Actor,
                       org_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, OrgCounts]:
    """Projects and members of each of ``org_ids`` the actor may see (two queries)."""
    policy.authorize(actor, Action.ORG_LIST)
    visible = policy.visible_org_ids(actor)
    wanted = [i for i in org_ids if visible is None or i in visible]
    projects = dict(session.execute(
        select(Project.organization_id, func.count()).where(
            Project.organization_id.in_(wanted)).group_by(Project.organization_id)).all())
    members = dict(session.execute(
        select(OrgMembership.organization_id, func.count()).where(
            OrgMembership.organization_id.in_(wanted), _unexpired(OrgMembership))
        .group_by(OrgMembership.organization_id)).all())
    return {i: OrgCounts(projects.get(i, 0), members.get(i, 0)) for i in wanted}


def get_org(session: Session, actor: Actor, ref: str) -> Organization:
    """One organization the actor may see."""
    org = find_org(session, ref)
    policy.authorize(actor, Action.ORG_READ, Target(org_id=org.id))
    return org


def update_org(session: Session, actor: Actor, ref: str,
               body: schemas.OrganizationUpdate) -> Organization:
    """Change an organization's descriptive fields."""
    org = find_org(session, ref)
    policy.authorize(actor, Action.ORG_UPDATE, Target(org_id=org.id))
    return _apply(session, actor, org, body.model_dump(exclude_none=True),
                  "organization.update", "organization", org.id)


def delete_org(session: Session, actor: Actor, ref: str) -> None:
    """Delete an organization that sponsors no project."""
    org = find_org(session, ref)
    policy.authorize(actor, Action.ORG_DELETE, Target(org_id=org.id))
    if session.scalar(select(Project.id).where(Project.organization_id == org.id).limit(1)):
        raise Conflict(f"organization {org.name} still sponsors projects; delete them first")
    audit.record(session, actor, "organization.delete", "organization", org.id,
                 organization_id=org.id, changes={"name": org.name})
    session.delete(org)


def _apply(session: Session, actor: Actor, row: RowT, changes: dict[str, Any], action: str,
           target_type: str, org_id: uuid.UUID | None) -> RowT:
    """Set ``changes`` on ``row`` and audit what actually changed."""
    before = {key: getattr(row, key) for key in changes}
    for key, value in changes.items():
        setattr(row, key, value)
    delta = audit.diff(before, changes)
    if delta:
        session.flush()
        audit.record(session, actor, action, target_type, row.id, organization_id=org_id,
                     changes=delta)
    return row


# --- organization members (affiliation and org admins) --------------------------------

def list_org_members(session: Session, actor: Actor, org_ref: str, *, cursor: str | None,
                     limit: int) -> Page[OrgMembership]:
    """Who belongs to an organization, and who administers it."""
    org = find_org(session, org_ref)
    policy.authorize(actor, Action.ORG_MEMBER_LIST, Target(org_id=org.id))
    stmt = (select(OrgMembership).options(joinedload(OrgMembership.user))
            .where(OrgMembership.organization_id == org.id))
    return paginate(session, stmt, OrgMembership, cursor=cursor, limit=limit)


def add_org_member(session: Session, actor: Actor, org_ref: str,
                   body: schemas.OrgMembershipCreate) -> OrgMembership:
    """Affiliate an existing user with an organization, or change their org role."""
    org = find_org(session, org_ref)
    policy.authorize(actor, Action.ORG_MEMBER_ADD, Target(org_id=org.id))
    if body.role is OrgRole.ADMIN and not actor.is_operator:
        raise Forbidden("only operators may make someone an organization admin")
    _check_expiry(body.expires_at)
    user = find_user(session, body.email)
    if not user.is_active:
        raise Conflict(f"{user.email} is deactivated")
    row = session.scalar(select(OrgMembership).where(
        OrgMembership.organization_id == org.id, OrgMembership.user_id == user.id))
    if row is None:
        row = OrgMembership(organization_id=org.id, user_id=user.id)
        session.add(row)
    before = {"role": row.role, "expires_at": row.expires_at}
    row.role, row.expires_at = body.role, body.expires_at
    flush_unique(session, f"membership of {user.email} in {org.name}")
    audit.record(session, actor, "organization.member.add", "org_membership", row.id,
                 organization_id=org.id,
                 changes={"email": user.email, **audit.diff(before, body.model_dump(
                     include={"role", "expires_at"}))})
    return row


def remove_org_member(session: Session, actor: Actor, org_ref: str, user_ref: str) -> None:
    """End a user's affiliation with an organization."""
    org = find_org(session, org_ref)
    policy.authorize(actor, Action.ORG_MEMBER_REMOVE, Target(org_id=org.id))
    user = find_user(session, user_ref)
    row = session.scalar(select(OrgMembership).where(
        OrgMembership.organization_id == org.id, OrgMembership.user_id == user.id))
    if row is None:
        raise NotFound(f"{user.email} is not a member of {org.name}")
    audit.record(session, actor, "organization.member.remove", "org_membership", row.id,
                 organization_id=org.id, changes={"email": user.email, "role": row.role})
    session.delete(row)


# --- users ----------------------------------------------------------------------------

def create_user(session: Session, actor: Actor, body: schemas.UserCreate) -> User:
    """Create a user; org admins must place the user in an organization they administer."""
    org = find_org(session, body.organization) if body.organization else None
    policy.authorize(actor, Action.USER_CREATE, Target(org_id=org.id) if org else Target())
    user = User(email=body.email.lower(), name=body.name,
                password_hash=hash_password(body.password) if body.password else None)
    session.add(user)
    flush_unique(session, f"user {user.email}")
    if org is not None:
        session.add(OrgMembership(organization_id=org.id, user_id=user.id, role=OrgRole.MEMBER))
    audit.record(session, actor, "user.create", "user", user.id,
                 organization_id=org.id if org else None,
                 changes={"email": user.email, "name": user.name,
                          "organization": org.name if org else None})
    return user


def list_users(session: Session, actor: Actor, *, cursor: str | None, limit: int,
               email: str | None = None) -> Page[User]:
    """Users the actor may see: operators all, org admins their orgs' users, others themself."""
    policy.authorize(actor, Action.USER_LIST)
    stmt = select(User)
    if (org_ids := policy.visible_user_scope(actor)) is not None:
        in_orgs = select(OrgMembership.user_id).where(
            OrgMembership.organization_id.in_(org_ids), _unexpired(OrgMembership))
        stmt = stmt.where(or_(User.id == actor.user_id, User.id.in_(in_orgs)))
    if email:
        stmt = stmt.where(User.email.startswith(email.lower(), autoescape=True))
    return paginate(session, stmt, User, cursor=cursor, limit=limit)


def get_user(session: Session, actor: Actor, ref: str) -> User:
    """One user the actor may see (``me`` is the actor)."""
    user = find_user(session, actor.user_id if ref == "me" and actor.user_id else ref)
    policy.authorize(actor, Action.USER_READ, user_target(session, user))
    return user


def update_user(session: Session, actor: Actor, ref: str, body: schemas.UserUpdate) -> User:
    """Change a user's name or password; only operators (de)activate accounts."""
    user = find_user(session, actor.user_id if ref == "me" and actor.user_id else ref)
    policy.authorize(actor, Action.USER_UPDATE, user_target(session, user))
    changes = body.model_dump(exclude_none=True,
                              exclude={"password", "current_password", "is_active"})
    if body.is_active is not None:
        _check_activation(session, actor, user, body.is_active)
        changes["is_active"] = body.is_active
    if body.password is not None:
        _change_password(session, actor, user, body.password, body.current_password)
    return _apply(session, actor, user, changes, "user.update", "user", None)


def _check_activation(session: Session, actor: Actor, user: User, active: bool) -> None:
    """Only operators (de)activate, never themselves; deactivation removes the user from
    every project and organization and ends every session (``lifecycle.deactivate``)."""
    if not actor.is_operator:
        raise Forbidden("only operators may activate or deactivate accounts")
    if user.id == actor.user_id and not active:
        raise InvalidInput("you cannot deactivate your own account")
    if not active and user.is_active:
        lifecycle.deactivate(session, actor, user)


def _change_password(session: Session, actor: Actor, user: User, password: str,
                     current: str | None) -> None:
    """Set a new password; one's own needs the current one. Other sessions end."""
    if user.id == actor.user_id and user.password_hash is not None and not verify_password(
            user.password_hash, current or ""):
        raise Forbidden("current_password is missing or wrong")
    user.password_hash = hash_password(password)
    audit.record(session, actor, "user.password", "user", user.id, changes={"password": "***"})
    tokens.revoke_all(session, actor, user.id,
                      keep=actor.token_id if user.id == actor.user_id else None)


# --- projects -------------------------------------------------------------------------

def create_project(session: Session, actor: Actor, body: schemas.ProjectCreate) -> Project:
    """Create a project sponsored by an organization."""
    org = find_org(session, body.organization)
    policy.authorize(actor, Action.PROJECT_CREATE, Target(org_id=org.id))
    project = Project(organization_id=org.id, name=body.name, description=body.description)
    session.add(project)
    flush_unique(session, f"project {org.name}/{body.name}")
    audit.record(session, actor, "project.create", "project", project.id,
                 organization_id=org.id, changes=body.model_dump())
    return project


def list_projects(session: Session, actor: Actor, *, cursor: str | None, limit: int,
                  organization: str | None = None, name: str | None = None) -> Page[Project]:
    """Projects the actor may see, optionally of one organization or by name prefix."""
    policy.authorize(actor, Action.PROJECT_LIST)
    stmt = select(Project).options(joinedload(Project.organization))
    scope = policy.visible_project_scope(actor)
    if scope is not None:
        project_ids, org_ids = scope
        stmt = stmt.where(or_(Project.id.in_(project_ids), Project.organization_id.in_(org_ids)))
    if organization:
        org_id = as_uuid(organization)
        if org_id is None:
            stmt = stmt.join(Organization).where(Organization.name == organization.lower())
        else:
            stmt = stmt.where(Project.organization_id == org_id)
    if name:
        stmt = stmt.where(Project.name.startswith(name.lower(), autoescape=True))
    return paginate(session, stmt, Project, cursor=cursor, limit=limit)


def get_project(session: Session, actor: Actor, ref: str) -> Project:
    """One project the actor may see."""
    project = find_project(session, ref, actor)
    policy.authorize(actor, Action.PROJECT_READ, project_target(project))
    return project


def update_project(session: Session, actor: Actor, ref: str,
                   body: schemas.ProjectUpdate) -> Project:
    """Change a project's description."""
    project = find_project(session, ref, actor)
    policy.authorize(actor, Action.PROJECT_UPDATE, project_target(project))
    return _apply(session, actor, project, body.model_dump(exclude_none=True),
                  "project.update", "project", project.organization_id)


def delete_project(session: Session, actor: Actor, ref: str) -> None:
    """Delete a project and its memberships."""
    project = find_project(session, ref, actor)
    policy.authorize(actor, Action.PROJECT_DELETE, project_target(project))
    audit.record(session, actor, "project.delete", "project", project.id,
                 organization_id=project.organization_id, changes={"name": project.name})
    session.delete(project)


# --- project memberships --------------------------------------------------------------

def list_members(session: Session, actor: Actor, project_ref: str, *, cursor: str | None,
                 limit: int) -> Page[Membership]:
    """A project's members and their roles."""
    project = find_project(session, project_ref, actor)
    policy.authorize(actor, Action.MEMBER_LIST, project_target(project))
    stmt = (select(Membership).options(joinedload(Membership.user))
            .where(Membership.project_id == project.id))
    return paginate(session, stmt, Membership, cursor=cursor, limit=limit)


def _members_changed(session: Session, actor: Actor, project_id: uuid.UUID) -> None:
    """Members' access lives on providers too: re-apply the project's allocations."""
    from ocx.domain.allocations.reconciler import members_changed  # allocations use identity

    members_changed(session, actor, project_id)


def _membership(session: Session, project: Project, user: User) -> Membership | None:
    return session.scalar(select(Membership).where(
        Membership.project_id == project.id, Membership.user_id == user.id))


def add_member(session: Session, actor: Actor, project_ref: str,
               body: schemas.MembershipCreate) -> Membership:
    """Add a user to a project with a role.

    Raises:
        Conflict: the user is already a member (change their role with an update).
    """
    project = find_project(session, project_ref, actor)
    target = project_target(project)
    policy.authorize(actor, Action.MEMBER_ADD, target)
    policy.authorize_grant(actor, target, body.role)
    return enrol(session, actor, project, find_user(session, body.email), body.role,
                 body.expires_at)


def enrol(session: Session, actor: Actor, project: Project, user: User, role: ProjectRole,
          expires_at: datetime | None, *, via: str | None = None) -> Membership:
    """Make ``user`` a member of ``project`` (the caller has authorized it): audited, the
    provider access re-applied, the new member told. ``via``: an invitation, a request...

    Raises:
        InvalidInput: the expiry has passed.
        Conflict: the user is deactivated or already a member.
        Forbidden: the PI role for a user not eligible to lead projects here.
    """
    from ocx.domain.identity.eligibility import require_pi_eligible  # it uses this module

    _check_expiry(expires_at)
    if not user.is_active:
        raise Conflict(f"{user.email} is deactivated")
    if role is ProjectRole.PI:
        require_pi_eligible(session, user, project.organization)
    existing = _membership(session, project, user)
    if existing is not None and (existing.expires_at is None or existing.expires_at > utcnow()):
        raise Conflict(f"{user.email} is already a member of {project.name}")
    if existing is not None:  # expired, and the expiry job has not removed it yet
        session.delete(existing)
        session.flush()
    row = Membership(project_id=project.id, user_id=user.id, role=role, expires_at=expires_at)
    session.add(row)
    flush_unique(session, f"membership of {user.email} in {project.name}")
    changes = {"project": project.name, "email": user.email, "role": role,
               "expires_at": expires_at}
    audit.record(session, actor, "member.add", "membership", row.id,
                 organization_id=project.organization_id,
                 changes={**changes, "via": via} if via else changes)
    _members_changed(session, actor, project.id)
    operations.enqueue(session, actor, kind=notify.MEMBER_ADDED, target=("membership", row.id),
                       idempotency_key=notify.member_added_key(row.id),
                       payload={"project": project.name, "email": user.email,
                                "role": role.value})
    return row


def update_member(session: Session, actor: Actor, project_ref: str, user_ref: str,
                  body: schemas.MembershipUpdate) -> Membership:
    """Change a member's role or expiry."""
    project = find_project(session, project_ref, actor)
    target = project_target(project)
    policy.authorize(actor, Action.MEMBER_UPDATE, target)
    user = find_user(session, user_ref)
    row = _membership(session, project, user)
    if row is None:
        raise NotFound(f"{user.email} is not a member of {project.name}")
    if row.user_id == actor.user_id and not (actor.is_operator or policy.org_admin(actor, target)):
        raise Forbidden("you cannot change your own membership; ask a PI or an org admin")
    policy.authorize_grant(actor, target, row.role)
    if body.role is not None:
        policy.authorize_grant(actor, target, body.role)
    if body.role is ProjectRole.PI and row.role is not ProjectRole.PI:
        from ocx.domain.identity.eligibility import require_pi_eligible  # it uses this module

        require_pi_eligible(session, user, project.organization)
    _check_expiry(body.expires_at)
    changes = body.model_dump(exclude_unset=True)
    return _apply(session, actor, row, changes, "member.update", "membership",
                  project.organization_id)


def remove_member(session: Session, actor: Actor, project_ref: str, user_ref: str) -> None:
    """Remove a user from a project."""
    project = find_project(session, project_ref, actor)
    target = project_target(project)
    policy.authorize(actor, Action.MEMBER_REMOVE, target)
    user = find_user(session, user_ref)
    row = _membership(session, project, user)
    if row is None:
        raise NotFound(f"{user.email} is not a member of {project.name}")
    policy.authorize_grant(actor, target, row.role)
    lifecycle.on_membership_ended(session, actor, row)
    audit.record(session, actor, "member.remove", "membership", row.id,
                 organization_id=project.organization_id,
                 changes={"project": project.name, "email": user.email, "role": row.role})
    session.delete(row)


# --- bootstrap --------------------------------------------------------------------------

def bootstrap_operator(session: Session, email: str, ttl_days: int) -> tuple[User, str]:
    """Create (or promote) an operator and issue a token; used on the database directly."""
    user = session.scalar(select(User).where(User.email == email.lower()))
    if user is None:
        user = User(email=email.lower(), name="OCX operator")
        session.add(user)
        session.flush()
    user.is_operator, user.is_active = True, True
    actor = tokens.actor_for(session, user)
    token, secret = tokens.issue(session, user, "bootstrap", ttl_days)
    audit.record(session, actor, "admin.bootstrap", "user", user.id,
                 changes={"email": user.email, "token": token.prefix})
    return user, secret


def has_operator(session: Session) -> bool:
    """Whether any active operator exists."""
    return session.scalar(
        select(User.id).where(User.is_operator.is_(True), User.is_active.is_(True)).limit(1)
    ) is not None


def describe_me(session: Session, actor: Actor) -> schemas.Me:
    """The actor with the name of every organization and project they hold a role in."""
    user = get_user(session, actor, "me")
    orgs = session.scalars(select(Organization).where(Organization.id.in_(actor.org_roles)))
    projects = session.scalars(select(Project).options(joinedload(Project.organization))
                               .where(Project.id.in_(actor.project_roles)))
    return schemas.Me(
        user=schemas.UserPublic.model_validate(user),
        organizations={org.name: actor.org_roles[org.id] for org in orgs},
        projects={f"{p.organization.name}:{p.name}": actor.project_roles[p.id]
                  for p in projects})
