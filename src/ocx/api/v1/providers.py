"""Providers: organizations that sell on the exchange."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from ocx.api.deps import ActorDep, PageDep, SessionDep, declares
from ocx.api.pages import PageOut, page_out
from ocx.domain.marketplace import schemas, service
from ocx.domain.policy import Action

router = APIRouter(prefix="/providers", tags=["marketplace"])
ProviderRef = Annotated[str, Path(max_length=100, description="provider id or name")]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=schemas.ProviderPublic,
             **declares(Action.PROVIDER_CREATE))
def create_provider(body: schemas.ProviderCreate, actor: ActorDep,
                    session: SessionDep) -> schemas.ProviderPublic:
    """Let an organization sell on the exchange (operators)."""
    return schemas.ProviderPublic.model_validate(service.create_provider(session, actor, body))


@router.get("", response_model=PageOut[schemas.ProviderPublic],
            **declares(Action.PROVIDER_LIST))
def list_providers(actor: ActorDep, session: SessionDep,
                   page: PageDep) -> PageOut[schemas.ProviderPublic]:
    """Every provider on the exchange."""
    found = service.list_providers(session, actor, cursor=page.cursor, limit=page.limit)
    return page_out(found, schemas.ProviderPublic.model_validate)


@router.get("/{provider}", response_model=schemas.ProviderPublic,
            **declares(Action.PROVIDER_READ))
def show_provider(provider: ProviderRef, actor: ActorDep,
                  session: SessionDep) -> schemas.ProviderPublic:
    """One provider."""
    return schemas.ProviderPublic.model_validate(service.get_provider(session, actor, provider))


@router.patch("/{provider}", response_model=schemas.ProviderPublic,
              **declares(Action.PROVIDER_UPDATE))
def update_provider(provider: ProviderRef, body: schemas.ProviderUpdate, actor: ActorDep,
                    session: SessionDep) -> schemas.ProviderPublic:
    """Change a provider's description (its admins, operators)."""
    updated = service.update_provider(session, actor, provider, body)
    return schemas.ProviderPublic.model_validate(updated)


@router.delete("/{provider}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               **declares(Action.PROVIDER_DELETE))
def delete_provider(provider: ProviderRef, actor: ActorDep, session: SessionDep) -> None:
    """Remove a provider that offers nothing (operators)."""
    service.delete_provider(session, actor, provider)
