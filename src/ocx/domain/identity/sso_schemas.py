"""Request and response models of single sign-on (``/api/v1/sso``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from ocx.domain.identity.schemas import Public, Strict, TokenCreated

ProviderName = Annotated[str, StringConstraints(min_length=1, max_length=63)]


class SsoProviderPublic(BaseModel):
    """An institution's identity provider that users may sign in with."""

    name: str
    display_name: str
    protocol: Literal["oidc"] = "oidc"


class DeviceLoginCreate(Strict):
    """Start a device login (``ocx login --sso``) with provider ``provider``."""

    provider: ProviderName


class DeviceLoginPublic(BaseModel):
    """A device login in progress: open ``verification_uri`` and enter ``user_code``."""

    provider: str
    device_code: str = Field(description="what the CLI sends back while it waits")
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: int
    interval: int


class DeviceLoginPoll(Strict):
    """Ask whether the person has approved the device login yet."""

    provider: ProviderName
    device_code: Annotated[str, StringConstraints(min_length=1, max_length=512)]
    token_name: Annotated[str, StringConstraints(min_length=1, max_length=100)] = "cli"


class DeviceLoginResult(BaseModel):
    """``pending`` until the person approves; then ``done`` with a new API token."""

    status: Literal["pending", "done"]
    token: TokenCreated | None = None


class ScimTokenCreate(Strict):
    """A name for an organization's SCIM provisioning client's token."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=100)] = "scim"


class ScimTokenPublic(Public):
    """An organization's SCIM token (never its secret)."""

    id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class ScimTokenCreated(ScimTokenPublic):
    """A new SCIM token, with its secret: shown only in this response."""

    token: str = Field(description="the secret; give it to the institution's SCIM client")
