"""SCIM 2.0 endpoints (``/scim/v2``) for institutions' provisioning clients: Users, and
Groups (the organization's projects).

Outside ``/api/v1``: SCIM has its own media type, error format and bearer tokens (an
organization's SCIM token, never a user's API token). Errors here are SCIM errors
(RFC 7644 section 3.12), not OCX's ``{"error": ...}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError
from sqlalchemy.orm import Session

from ocx.api.deps import SessionDep
from ocx.domain.identity import scim, scim_groups
from ocx.domain.identity.models import Project, User
from ocx.domain.identity.scim_models import ScimLink
from ocx.domain.identity.scim_schemas import ScimGroup, ScimPatch, ScimUser, member_changes
from ocx.errors import InvalidInput, OcxError
from ocx.logging import request_id_var

MEDIA_TYPE = "application/scim+json"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
MAX_COUNT = 200

router = APIRouter(prefix="/scim/v2", include_in_schema=False)
_bearer = HTTPBearer(auto_error=False)
Json = dict[str, Any]


def _reply(body: Json | None, status: int = 200) -> Response:
    if body is None:
        return Response(status_code=status)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


def _error(status: int, detail: str, scim_type: str | None = None) -> Response:
    body: Json = {"schemas": [ERROR_SCHEMA], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return _reply(body, status)


def _run(session: Session, request: Request, bearer: str | None,
         call: Callable[[scim.ScimClient], tuple[Json | None, int]]) -> Response:
    """Authenticate the client and run ``call`` in a savepoint; errors become SCIM errors."""
    try:
        with session.begin_nested():
            client = scim.authenticate(session, bearer, request_id_var.get())
        with session.begin_nested():
            body, status = call(client)
    except ValidationError as exc:
        return _error(400, f"invalid request: {exc.error_count()} problem(s)", "invalidValue")
    except InvalidInput as exc:
        return _error(400, exc.message, "invalidFilter" if "filter" in exc.message
                      else "invalidValue")
    except OcxError as exc:
        return _error(exc.status, exc.message, "uniqueness" if exc.status == 409 else None)
    return _reply(body, status)


def _list(total: int, start: int, resources: list[Json]) -> Json:
    return {"schemas": [LIST_SCHEMA], "totalResults": total, "startIndex": start,
            "itemsPerPage": len(resources), "Resources": resources}


def _user(request: Request, user: User, link: ScimLink) -> Json:
    return {
        "schemas": [USER_SCHEMA], "id": str(user.id), "externalId": link.external_id,
        "userName": user.email, "displayName": user.name, "name": {"formatted": user.name},
        "emails": [{"value": user.email, "primary": True}], "active": user.is_active,
        "meta": {"resourceType": "User", "created": user.created_at.isoformat(),
                 "lastModified": user.updated_at.isoformat(),
                 "location": str(request.url_for("scim_user", user_id=str(user.id)))}}


BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _secret(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    return credentials.credentials if credentials else None


@router.get("/Users")
def list_users(request: Request, session: SessionDep, credentials: BearerDep,
               filter: Annotated[str | None, Query(max_length=400)] = None,
               startIndex: Annotated[int, Query(ge=1)] = 1,
               count: Annotated[int, Query(ge=0)] = 100) -> Response:
    """The client's users; ``filter=userName eq "EMAIL"`` finds one."""
    def call(client: scim.ScimClient) -> tuple[Json | None, int]:
        total, rows = scim.list_users(session, client, filter, startIndex, min(count, MAX_COUNT))
        return _list(total, startIndex, [_user(request, u, link) for u, link in rows]), 200
    return _run(session, request, _secret(credentials), call)


@router.post("/Users")
def create_user(request: Request, session: SessionDep, credentials: BearerDep,
                body: Annotated[Json, Body()]) -> Response:
    """Provision a user in the client's organization (201), or 409 if the email is taken."""
    def call(client: scim.ScimClient) -> tuple[Json | None, int]:
        user, link = scim.create_user(session, client, ScimUser.model_validate(body).to_input())
        return _user(request, user, link), 201
    return _run(session, request, _secret(credentials), call)


@router.get("/Users/{user_id}", name="scim_user")
def get_user(user_id: str, request: Request, session: SessionDep,
             credentials: BearerDep) -> Response:
    """One of the client's users."""
    def call(client: scim.ScimClient) -> tuple[Json | None, int]:
        return _user(request, *scim.get_user(session, client, user_id)), 200
    return _run(session, request, _secret(credentials), call)


@router.patch("/Users/{user_id}")
def patch_user(user_id: str, request: Request, session: SessionDep, credentials: BearerDep,
               body: Annotated[Json, Body()]) -> Response:
    """Change ``active`` (false runs deprovisioning: every membership, token and session)."""
    def call(client: scim.ScimClient) -> tuple[Json | None, int]:
        active = ScimPatch.model_validate(body).active()
        user, link = scim.get_user(session, client, user_id)
        if active is not None:
            scim.set_active(session, client, user, active)
        return _user(request, user, link), 200
    return _run(session, request, _secret(credentials), call)


@router.delete("/Users/{user_id}")
def delete_user(user_id: str, request: Request, session: SessionDep,
                credentials: BearerDep) -> Response:
    """Deprovision a user for good (they are deactivated; the account stays for the record)."""
    def call(client: scim.ScimClient) -> tuple[Json | None, int]:
        user, link = scim.get_user(session, client, user_id)
        scim.delete_user(session, client, user, link)
        return None, 204
    return _run(session, request, _secret(credentials), call)


# --- groups: the organization's projects ------------------------------------------------

def _group(request: Request, session: Session, project: Project) -> Json:
    return {
        "schemas": [GROUP_SCHEMA], "id": str(project.id), "displayName": project.name,
        "members": [{"value": str(user.id), "display": user.email, "type": "User"}
                    for user in scim_groups.members_of(session, project)],
        "meta": {"resourceType": "Group", "created": project.created_at.isoformat(),
                 "lastModified": project.updated_at.isoformat(),
                 "location": str(request.url_for("scim_group", group_id=str(project.id)))}}


@router.get("/Groups")
def list_groups(request: Request, session: SessionDep, credentials: BearerDep,
                filter: Annotated[str | None, Query(max_length=400)] = None,
                startIndex: Annotated[int, Query(ge=1)] = 1,
                count: Annotated[int, Query(ge=0)] = 100) -> Response:
    """The organization's projects as groups; ``filter=displayName eq "NAME"`` finds one."""
    def call(client: scim.ScimClient) -> tuple[Json | None, int]:
        total, rows = scim_groups.list_groups(session, client, filter, startIndex,
                                              min(count, MAX_COUNT))
        return _list(total, startIndex, [_group(request, session, p) for p in rows]), 200
    return _run(session, request, _secret(credentials), call)


@router.post("/Groups")
def create_group(request: Request, session: SessionDep, credentials: BearerDep,
                 body: Annotated[Json, Body()]) -> Response:
    """Create a project in the organization, with the given members (201)."""
    def call(client: scim.ScimClient) -> tuple[Json | None, int]:
        group = ScimGroup.model_validate(body)
        project = scim_groups.create_group(session, client, group.displayName,
                                           [member.value for member in group.members])
        return _group(request, session, project), 201
    return _run(session, request, _secret(credentials), call)


@router.get("/Groups/{group_id}", name="scim_group")
def get_group(group_id: str, request: Request, session: SessionDep,
              credentials: BearerDep) -> Response:
    """One of the organization's projects, with its members."""
    def call(client: scim.ScimClient) -> tuple[Json | None, int]:
        return _group(request, session, scim_groups.get_group(session, client, group_id)), 200
    return _run(session, request, _secret(credentials), call)


@router.patch("/Groups/{group_id}")
def patch_group(group_id: str, request: Request, session: SessionDep, credentials: BearerDep,
                body: Annotated[Json, Body()]) -> Response:
    """Add or remove members (removal ends their access through the lifecycle hook)."""
    def call(client: scim.ScimClient) -> tuple[Json | None, int]:
        add, remove = member_changes(ScimPatch.model_validate(body))
        project = scim_groups.get_group(session, client, group_id)
        scim_groups.change_members(session, client, project, add=add, remove=remove)
        return _group(request, session, project), 200
    return _run(session, request, _secret(credentials), call)


@router.delete("/Groups/{group_id}")
def delete_group(group_id: str, request: Request, session: SessionDep,
                 credentials: BearerDep) -> Response:
    """Delete the project, ending every membership first."""
    def call(client: scim.ScimClient) -> tuple[Json | None, int]:
        scim_groups.delete_group(session, client, scim_groups.get_group(session, client,
                                                                        group_id))
        return None, 204
    return _run(session, request, _secret(credentials), call)
