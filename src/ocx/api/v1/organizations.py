"""Organizations and their members (affiliations and org admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from ocx.api.deps import ActorDep, PageDep, SessionDep, declares
from ocx.api.pages import PageOut, page_out
from ocx.domain.identity import schemas, service
from ocx.domain.identity.models import OrgMembership
from ocx.domain.policy import Action

router = APIRouter(prefix="/organizations", tags=["organizations"])
OrgRef = Annotated[str, Path(max_length=100, description="organization id or name")]
UserRef = Annotated[str, Path(max_length=320, description="user id or email")]


def _org_member(row: OrgMembership) -> schemas.OrgMembershipPublic:
    return schemas.OrgMembershipPublic(
        id=row.id, organization_id=row.organization_id, user_id=row.user_id,
        email=row.user.email, role=row.role, expires_at=row.expires_at,
        created_at=row.created_at)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=schemas.OrganizationPublic,
             **declares(Action.ORG_CREATE))
def create_organization(body: schemas.OrganizationCreate, actor: ActorDep,
                        session: SessionDep) -> schemas.OrganizationPublic:
    """Create an organization (operators)."""
    return schemas.OrganizationPublic.model_validate(service.create_org(session, actor, body))


@router.get("", response_model=PageOut[schemas.OrganizationPublic], **declares(Action.ORG_LIST))
def list_organizations(
    actor: ActorDep, session: SessionDep, page: PageDep,
    name: Annotated[str | None, Query(max_length=63, description="name prefix")] = None,
) -> PageOut[schemas.OrganizationPublic]:
    """Organizations you belong to (operators: all)."""
    found = service.list_orgs(session, actor, cursor=page.cursor, limit=page.limit, name=name)
    return page_out(found, schemas.OrganizationPublic.model_validate)


@router.get("/{org}", response_model=schemas.OrganizationPublic, **declares(Action.ORG_READ))
def show_organization(org: OrgRef, actor: ActorDep,
                      session: SessionDep) -> schemas.OrganizationPublic:
    """One organization."""
    return schemas.OrganizationPublic.model_validate(service.get_org(session, actor, org))


@router.patch("/{org}", response_model=schemas.OrganizationPublic,
              **declares(Action.ORG_UPDATE))
def update_organization(org: OrgRef, body: schemas.OrganizationUpdate, actor: ActorDep,
                        session: SessionDep) -> schemas.OrganizationPublic:
    """Change an organization's display name or description (operators, org admins)."""
    updated = service.update_org(session, actor, org, body)
    return schemas.OrganizationPublic.model_validate(updated)


@router.delete("/{org}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               **declares(Action.ORG_DELETE))
def delete_organization(org: OrgRef, actor: ActorDep, session: SessionDep) -> None:
    """Delete an organization that sponsors no project (operators)."""
    service.delete_org(session, actor, org)


@router.get("/{org}/members", response_model=PageOut[schemas.OrgMembershipPublic],
            **declares(Action.ORG_MEMBER_LIST))
def list_organization_members(org: OrgRef, actor: ActorDep, session: SessionDep,
                              page: PageDep) -> PageOut[schemas.OrgMembershipPublic]:
    """The organization's affiliated users and admins (operators, org admins)."""
    found = service.list_org_members(session, actor, org, cursor=page.cursor, limit=page.limit)
    return page_out(found, _org_member)


@router.post("/{org}/members", status_code=status.HTTP_201_CREATED,
             response_model=schemas.OrgMembershipPublic, **declares(Action.ORG_MEMBER_ADD))
def add_organization_member(org: OrgRef, body: schemas.OrgMembershipCreate, actor: ActorDep,
                            session: SessionDep) -> schemas.OrgMembershipPublic:
    """Affiliate a user with the organization, or change their role in it."""
    return _org_member(service.add_org_member(session, actor, org, body))


@router.delete("/{org}/members/{user}", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response, **declares(Action.ORG_MEMBER_REMOVE))
def remove_organization_member(org: OrgRef, user: UserRef, actor: ActorDep,
                               session: SessionDep) -> None:
    """End a user's affiliation with the organization."""
    service.remove_org_member(session, actor, org, user)
