"""Calling OCX's SCIM endpoints as an institution's provisioning client would."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.support.world import World

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def scim_token(client: TestClient, world: World, org: str = "org-a") -> dict[str, str]:
    """An operator's new SCIM token for ``org``, as request headers."""
    created = client.post(f"/api/v1/organizations/{org}/scim-tokens", json={"name": "idm"},
                          headers=world["operator"].headers)
    assert created.status_code == 201, created.text
    return {"Authorization": f"Bearer {created.json()['token']}"}


def create_user(client: TestClient, headers: dict[str, str], email: str, **extra: Any
            ) -> dict[str, Any]:
    """Provision ``email`` with SCIM; the created User resource."""
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": email,
            "name": {"givenName": "Dana", "familyName": "Doe"}, "externalId": "e-1", **extra}
    created = client.post("/scim/v2/Users", json=body,
                          headers={**headers, "Content-Type": "application/scim+json"})
    assert created.status_code == 201, created.text
    assert created.headers["content-type"] == "application/scim+json"
    user: dict[str, Any] = created.json()
    return user
