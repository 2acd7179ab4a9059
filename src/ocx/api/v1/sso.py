"""Single sign-on for API clients: the identity providers, and the device login that
``ocx login --sso`` uses (OCX talks to the provider; the CLI never holds its secret)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from ocx.api.deps import SessionDep, SettingsDep
from ocx.domain.identity import federation
from ocx.domain.identity.oidc import OidcProviders
from ocx.domain.identity.schemas import TokenCreated, TokenPublic
from ocx.domain.identity.sso_schemas import (
    DeviceLoginCreate,
    DeviceLoginPoll,
    DeviceLoginPublic,
    DeviceLoginResult,
    SsoProviderPublic,
)
from ocx.logging import request_id_var

router = APIRouter(prefix="/sso", tags=["sso"])


def get_providers(request: Request) -> OidcProviders:
    """The configured identity providers, built once per app (their metadata is cached)."""
    providers: OidcProviders | None = getattr(request.app.state, "oidc_providers", None)
    if providers is None:
        providers = OidcProviders(request.app.state.runtime.settings)
        request.app.state.oidc_providers = providers
    return providers


ProvidersDep = Annotated[OidcProviders, Depends(get_providers)]


@router.get("/providers", response_model=list[SsoProviderPublic])
def list_providers(providers: ProvidersDep) -> list[SsoProviderPublic]:
    """The institutions' identity providers one may sign in with (public)."""
    return [SsoProviderPublic(name=p.name, display_name=p.config.display_name or p.name)
            for p in providers.all()]


@router.post("/device", response_model=DeviceLoginPublic)
def start_device_login(body: DeviceLoginCreate, providers: ProvidersDep) -> DeviceLoginPublic:
    """Start a device login at an identity provider (public: the login proves who you are)."""
    started = providers.get(body.provider).start_device()
    return DeviceLoginPublic(provider=body.provider, device_code=started.device_code,
                             user_code=started.user_code,
                             verification_uri=started.verification_uri,
                             verification_uri_complete=started.verification_uri_complete,
                             expires_in=started.expires_in, interval=started.interval)


@router.post("/device/token", response_model=DeviceLoginResult)
def finish_device_login(body: DeviceLoginPoll, providers: ProvidersDep, session: SessionDep,
                        settings: SettingsDep) -> DeviceLoginResult:
    """Poll a device login; once approved, the user (created on first login) gets a token."""
    provider = providers.get(body.provider)
    claims = provider.poll_device(body.device_code)
    if claims is None:
        return DeviceLoginResult(status="pending")
    token, secret = federation.issue_cli_token(session, provider.config, claims,
                                               body.token_name, settings.token_default_ttl_days,
                                               request_id_var.get())
    public = TokenPublic.model_validate(token)
    return DeviceLoginResult(status="done", token=TokenCreated(token=secret,
                                                               **public.model_dump()))
