"""SCIM 2.0 request bodies, read leniently (clients send more than OCX uses).

Field names are SCIM's own (camelCase), so that bodies validate as they are sent.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from ocx.domain.identity.scim import ScimUserInput
from ocx.errors import InvalidInput


def _refuse_nul(cls: type[BaseModel], value: Any) -> Any:
    # PostgreSQL cannot store NUL in text and no SCIM attribute OCX keeps has a use for it.
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


class ScimName(BaseModel):
    """The parts of a SCIM name OCX reads."""

    model_config = ConfigDict(extra="ignore")

    formatted: str | None = Field(default=None, max_length=255)
    givenName: str | None = Field(default=None, max_length=120)
    familyName: str | None = Field(default=None, max_length=120)

    _no_nul = field_validator("*")(_refuse_nul)


class ScimUser(BaseModel):
    """A SCIM User resource as sent by a provisioning client."""

    model_config = ConfigDict(extra="ignore")

    userName: str = Field(min_length=3, max_length=320)
    externalId: str | None = Field(default=None, max_length=255)
    displayName: str | None = Field(default=None, max_length=255)
    name: ScimName | None = None
    active: StrictBool = True

    _no_nul = field_validator("*")(_refuse_nul)

    def to_input(self) -> ScimUserInput:
        """What OCX keeps of it."""
        return ScimUserInput(user_name=self.userName, name=self._display_name(),
                             external_id=self.externalId, active=self.active)

    def _display_name(self) -> str:
        if self.displayName:
            return self.displayName
        if self.name is None:
            return ""
        parts = (self.name.givenName, self.name.familyName)
        return self.name.formatted or " ".join(part for part in parts if part)


class ScimOperation(BaseModel):
    """One PATCH operation."""

    model_config = ConfigDict(extra="ignore")

    op: str = Field(max_length=16)
    path: str | None = Field(default=None, max_length=200)
    value: Any = None

    @field_validator("op")
    @classmethod
    def _known(cls, value: str) -> str:
        if value.lower() not in ("add", "replace", "remove"):
            raise ValueError("op must be add, replace or remove")
        return value.lower()


class ScimPatch(BaseModel):
    """A SCIM PatchOp request."""

    model_config = ConfigDict(extra="ignore")

    schemas: list[Literal["urn:ietf:params:scim:api:messages:2.0:PatchOp"]] = Field(
        min_length=1)
    Operations: list[ScimOperation] = Field(min_length=1, max_length=50)

    def active(self) -> bool | None:
        """The ``active`` value the operations set, if any (the last one wins)."""
        found: bool | None = None
        for operation in self.Operations:
            value = operation.value
            if operation.path and operation.path.lower() == "active":
                found = _as_bool(value)
            elif operation.path is None and isinstance(value, dict) and "active" in value:
                found = _as_bool(value["active"])
        return found


def _as_bool(value: Any) -> bool:
    # Azure AD sends "False" as a string; anything else must be a real boolean.
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise InvalidInput("active must be a boolean")


class ScimMemberRef(BaseModel):
    """A group member as SCIM names it: the user's id."""

    model_config = ConfigDict(extra="ignore")

    value: str = Field(min_length=1, max_length=64)


class ScimGroup(BaseModel):
    """A SCIM Group resource as sent by a provisioning client."""

    model_config = ConfigDict(extra="ignore")

    displayName: str = Field(min_length=1, max_length=63)
    members: list[ScimMemberRef] = Field(default_factory=list, max_length=1000)

    _no_nul = field_validator("*")(_refuse_nul)


_MEMBER_PATH = re.compile(r'^members\[value eq "([^"]{1,64})"\]$', re.IGNORECASE)


def member_changes(patch: ScimPatch) -> tuple[list[str], list[str]]:
    """The user ids a group PatchOp adds and removes (only ``members`` can change)."""
    add: list[str] = []
    remove: list[str] = []
    for operation in patch.Operations:
        path = operation.path or ""
        selected = _MEMBER_PATH.match(path)
        if operation.op == "remove" and selected:
            remove.append(selected.group(1))
        elif path.lower() == "members" and operation.op in ("add", "remove"):
            values = operation.value if isinstance(operation.value, list) else []
            ids = [ScimMemberRef.model_validate(value).value for value in values]
            (add if operation.op == "add" else remove).extend(ids)
        else:
            raise InvalidInput("a group PATCH may only add or remove members")
    return add, remove
