"""An organization's SCIM tokens: operators connect an institution's provisioning client."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from ocx.api.deps import ActorDep, SessionDep, declares
from ocx.api.v1.organizations import OrgRef
from ocx.domain.identity import scim
from ocx.domain.identity.sso_schemas import ScimTokenCreate, ScimTokenCreated, ScimTokenPublic
from ocx.domain.policy import Action

router = APIRouter(prefix="/organizations/{org}/scim-tokens", tags=["sso"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ScimTokenCreated,
             **declares(Action.SCIM_TOKEN_CREATE))
def create_scim_token(org: OrgRef, body: ScimTokenCreate, actor: ActorDep,
                      session: SessionDep) -> ScimTokenCreated:
    """A SCIM token for the organization's provisioning client (the secret is shown once)."""
    token, secret = scim.create_token(session, actor, org, body.name)
    return ScimTokenCreated(token=secret,
                            **ScimTokenPublic.model_validate(token).model_dump())


@router.get("", response_model=list[ScimTokenPublic], **declares(Action.SCIM_TOKEN_LIST))
def list_scim_tokens(org: OrgRef, actor: ActorDep, session: SessionDep) -> list[ScimTokenPublic]:
    """The organization's SCIM tokens."""
    return [ScimTokenPublic.model_validate(t) for t in scim.list_tokens(session, actor, org)]


@router.delete("/{scim_token}", response_model=ScimTokenPublic,
               **declares(Action.SCIM_TOKEN_REVOKE))
def revoke_scim_token(org: OrgRef, scim_token: uuid.UUID, actor: ActorDep,
                      session: SessionDep) -> ScimTokenPublic:
    """Revoke a SCIM token: the provisioning client is cut off at once."""
    return ScimTokenPublic.model_validate(scim.revoke_token(session, actor, org, scim_token))
