"""Projects and their members."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from ocx.api.deps import ActorDep, PageDep, SessionDep, declares
from ocx.api.pages import PageOut, page_out
from ocx.domain.identity import schemas, service
from ocx.domain.identity.models import Membership, Project
from ocx.domain.policy import Action

router = APIRouter(prefix="/projects", tags=["projects"])
ProjectRef = Annotated[str, Path(max_length=130, description="project id, name, or ORG:NAME")]
UserRef = Annotated[str, Path(max_length=320, description="user id or email")]


def _project(row: Project) -> schemas.ProjectPublic:
    return schemas.ProjectPublic(
        id=row.id, name=row.name, organization_id=row.organization_id,
        organization=row.organization.name, description=row.description,
        created_at=row.created_at)


def _member(row: Membership) -> schemas.MembershipPublic:
    return schemas.MembershipPublic(
        id=row.id, project_id=row.project_id, user_id=row.user_id, email=row.user.email,
        name=row.user.name, role=row.role, expires_at=row.expires_at, created_at=row.created_at)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=schemas.ProjectPublic,
             **declares(Action.PROJECT_CREATE))
def create_project(body: schemas.ProjectCreate, actor: ActorDep,
                   session: SessionDep) -> schemas.ProjectPublic:
    """Create a project sponsored by an organization (operators, org admins)."""
    return _project(service.create_project(session, actor, body))


@router.get("", response_model=PageOut[schemas.ProjectPublic], **declares(Action.PROJECT_LIST))
def list_projects(
    actor: ActorDep, session: SessionDep, page: PageDep,
    organization: Annotated[str | None, Query(max_length=100,
                                              description="organization id or name")] = None,
    name: Annotated[str | None, Query(max_length=63, description="name prefix")] = None,
) -> PageOut[schemas.ProjectPublic]:
    """Projects you are in or administer (operators: all)."""
    found = service.list_projects(session, actor, cursor=page.cursor, limit=page.limit,
                                  organization=organization, name=name)
    return page_out(found, _project)


@router.get("/{project}", response_model=schemas.ProjectPublic,
            **declares(Action.PROJECT_READ))
def show_project(project: ProjectRef, actor: ActorDep,
                 session: SessionDep) -> schemas.ProjectPublic:
    """One project."""
    return _project(service.get_project(session, actor, project))


@router.patch("/{project}", response_model=schemas.ProjectPublic,
              **declares(Action.PROJECT_UPDATE))
def update_project(project: ProjectRef, body: schemas.ProjectUpdate, actor: ActorDep,
                   session: SessionDep) -> schemas.ProjectPublic:
    """Change a project's description (PI, manager, org admins, operators)."""
    return _project(service.update_project(session, actor, project, body))


@router.delete("/{project}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               **declares(Action.PROJECT_DELETE))
def delete_project(project: ProjectRef, actor: ActorDep, session: SessionDep) -> None:
    """Delete a project (org admins, operators)."""
    service.delete_project(session, actor, project)


@router.get("/{project}/members", response_model=PageOut[schemas.MembershipPublic],
            **declares(Action.MEMBER_LIST))
def list_members(project: ProjectRef, actor: ActorDep, session: SessionDep,
                 page: PageDep) -> PageOut[schemas.MembershipPublic]:
    """The project's members and their roles."""
    found = service.list_members(session, actor, project, cursor=page.cursor, limit=page.limit)
    return page_out(found, _member)


@router.post("/{project}/members", status_code=status.HTTP_201_CREATED,
             response_model=schemas.MembershipPublic, **declares(Action.MEMBER_ADD))
def add_member(project: ProjectRef, body: schemas.MembershipCreate, actor: ActorDep,
               session: SessionDep) -> schemas.MembershipPublic:
    """Add a user to the project (PI, manager, org admins, operators)."""
    return _member(service.add_member(session, actor, project, body))


@router.patch("/{project}/members/{user}", response_model=schemas.MembershipPublic,
              **declares(Action.MEMBER_UPDATE))
def update_member(project: ProjectRef, user: UserRef, body: schemas.MembershipUpdate,
                  actor: ActorDep, session: SessionDep) -> schemas.MembershipPublic:
    """Change a member's role or expiry."""
    return _member(service.update_member(session, actor, project, user, body))


@router.delete("/{project}/members/{user}", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response, **declares(Action.MEMBER_REMOVE))
def remove_member(project: ProjectRef, user: UserRef, actor: ActorDep,
                  session: SessionDep) -> None:
    """Remove a member from the project."""
    service.remove_member(session, actor, project, user)
