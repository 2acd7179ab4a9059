"""SCIM bodies and SAML attribute mapping, without any server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from ocx.config import SamlProviderSettings
from ocx.domain.identity.saml import SamlProviders
from ocx.domain.identity.scim_schemas import ScimPatch, ScimUser, member_changes
from ocx.errors import InvalidInput

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _patch(*operations: dict[str, Any]) -> ScimPatch:
    return ScimPatch.model_validate({"schemas": [PATCH_OP], "Operations": list(operations)})


@pytest.mark.parametrize(("operation", "expected"), [
    ({"op": "replace", "path": "active", "value": False}, False),
    ({"op": "Replace", "path": "active", "value": "True"}, True),  # Azure AD's spelling
    ({"op": "replace", "value": {"active": False, "displayName": "x"}}, False),
    ({"op": "replace", "path": "displayName", "value": "x"}, None),
])
def test_patch_active(operation: dict[str, Any], expected: bool | None) -> None:
    assert _patch(operation).active() is expected


def test_patch_active_must_be_a_boolean() -> None:
    with pytest.raises(InvalidInput):
        _patch({"op": "replace", "path": "active", "value": "maybe"}).active()
    with pytest.raises(ValidationError):
        _patch({"op": "explode"})


def test_group_member_changes() -> None:
    add, remove = member_changes(_patch(
        {"op": "add", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]},
        {"op": "remove", "path": 'members[value eq "u3"]'},
        {"op": "remove", "path": "members", "value": [{"value": "u4"}]}))
    assert (add, remove) == (["u1", "u2"], ["u3", "u4"])
    with pytest.raises(InvalidInput):
        member_changes(_patch({"op": "replace", "path": "displayName", "value": "x"}))


def test_scim_user_display_name() -> None:
    given = ScimUser.model_validate({"userName": "a@b.org",
                                     "name": {"givenName": "Ada", "familyName": "L"}})
    assert given.to_input().name == "Ada L"
    shown = ScimUser.model_validate({"userName": "a@b.org", "displayName": "Ada"})
    assert shown.to_input().name == "Ada"
    with pytest.raises(ValidationError):
        ScimUser.model_validate({"userName": "a@b.org", "active": "yes"})


def test_saml_attributes_map_to_claims(tmp_path: Path) -> None:
    provider = SamlProviderSettings(name="campus", metadata_file=tmp_path / "md.xml",
                                    entity_id="https://idp")
    identity = {"eduPersonPrincipalName": ["ada@campus.example.org"],
                "mail": ["Ada@Campus.example.org"], "displayName": ["Ada L"],
                "eduPersonScopedAffiliation": ["faculty@campus.example.org"]}
    claims = SamlProviders._claims(provider, "https://idp", identity, "opaque-name-id")
    assert (claims.subject, claims.email, claims.name, claims.affiliations) == (
        "ada@campus.example.org", "ada@campus.example.org", "Ada L",
        ("faculty@campus.example.org",))
    bare = SamlProviders._claims(provider, "https://idp", {}, "opaque-name-id")
    assert (bare.subject, bare.email, bare.email_verified) == ("opaque-name-id", "", False)
