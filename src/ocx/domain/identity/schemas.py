"""API shapes for identity, named by role: XCreate, XUpdate, XPublic."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
)

from ocx.domain.identity.roles import OrgRole, ProjectRole


def _not_a_uuid(value: str) -> str:
    # References accept an id or a name; a name shaped like an id could never be found.
    try:
        uuid.UUID(value)
    except ValueError:
        return value
    raise ValueError("a name must not look like an id (a UUID)")


Slug = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=63,
                      pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"),
    AfterValidator(_not_a_uuid),
    Field(description="lower-case letters, digits and dashes; starts and ends alphanumeric"),
]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)]
LongText = Annotated[str, StringConstraints(max_length=4000)]


# Times arrive with any zone and are kept, and answered, in UTC.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(lambda value: value.astimezone(UTC))]
EXPIRY_HELP = "when the role ends: an ISO 8601 time with its zone, in the future"


class Public(BaseModel):
    """Base of response models read from ORM rows."""

    model_config = ConfigDict(from_attributes=True)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class Strict(BaseModel):
    """Base of request models: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        # PostgreSQL cannot store NUL in text and no field has a use for it.
        if _has_nul(value):
            raise ValueError("must not contain NUL characters")
        return value


class OrganizationCreate(Strict):
    name: Slug
    display_name: ShortText = ""
    description: LongText = ""


class OrganizationUpdate(Strict):
    display_name: ShortText | None = None
    description: LongText | None = None


class OrganizationPublic(Public):
    id: uuid.UUID
    name: str
    display_name: str
    description: str
    created_at: datetime


class UserCreate(Strict):
    email: EmailStr
    name: ShortText = ""
    password: Annotated[str, StringConstraints(min_length=12, max_length=256)] | None = None
    organization: str | None = Field(
        default=None, description="organization (id or name) to affiliate the user with")


class UserUpdate(Strict):
    name: ShortText | None = None
    password: Annotated[str, StringConstraints(min_length=12, max_length=256)] | None = None
    current_password: Annotated[str, StringConstraints(max_length=256)] | None = Field(
        default=None, description="required to change your own password")
    is_active: bool | None = None


class UserPublic(Public):
    id: uuid.UUID
    email: str
    name: str
    is_operator: bool
    is_active: bool
    created_at: datetime


class OrgMembershipCreate(Strict):
    email: EmailStr
    role: OrgRole = OrgRole.MEMBER
    expires_at: UtcDatetime | None = Field(default=None, description=EXPIRY_HELP)


class OrgMembershipPublic(Public):
    id: uuid.UUID
    organization_id: uuid.UUID
    user_id: uuid.UUID
    email: str
    role: OrgRole
    expires_at: datetime | None
    created_at: datetime


class ProjectCreate(Strict):
    name: Slug
    organization: str = Field(description="sponsoring organization, by id or name")
    description: LongText = ""


class ProjectUpdate(Strict):
    description: LongText | None = None


class ProjectPublic(Public):
    id: uuid.UUID
    name: str
    organization_id: uuid.UUID
    organization: str
    description: str
    created_at: datetime


class MembershipCreate(Strict):
    email: EmailStr
    role: ProjectRole = ProjectRole.MEMBER
    expires_at: UtcDatetime | None = Field(default=None, description=EXPIRY_HELP)


class MembershipUpdate(Strict):
    role: ProjectRole | None = Field(default=None, description="leave out to keep the role")
    expires_at: UtcDatetime | None = Field(
        default=None, description=EXPIRY_HELP + "; null removes the expiry")

    @field_validator("role")
    @classmethod
    def _role_not_null(cls, value: ProjectRole | None) -> ProjectRole:
        if value is None:
            raise ValueError("a member needs a role; leave the field out to keep it")
        return value


class MembershipPublic(Public):
    id: uuid.UUID
    project_id: uuid.UUID
    user_id: uuid.UUID
    email: str
    name: str
    role: ProjectRole
    expires_at: datetime | None
    created_at: datetime


class TokenCreate(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class TokenPublic(Public):
    id: uuid.UUID
    name: str
    prefix: str
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime


class TokenCreated(TokenPublic):
    token: str = Field(description="the secret; shown only in this response")


class LoginRequest(Strict):
    email: EmailStr
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    token_name: Annotated[str, StringConstraints(min_length=1, max_length=100)] = "cli"


class Me(Public):
    user: UserPublic
    organizations: dict[str, OrgRole]
    projects: dict[str, ProjectRole]
