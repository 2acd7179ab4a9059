"""Onboarding with the ``ocx`` CLI against the served API: invitations, join requests,
PI eligibility, project requests, terms of use and SCIM tokens."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from typer.testing import Result

from tests.integration.cli.conftest import Run
from tests.integration.onboarding.helpers import mailed_link, person
from tests.support.world import World


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_invitation_create_list_accept_and_revoke(ocx: Run, world: World, app: FastAPI) -> None:
    pi = world["pi_a"].token
    created = _json(ocx("invitation", "create", "proj-a", "guest@x.example.org", "--role",
                        "manager", "-o", "json", token=pi))
    assert (created["role"], created["state"]) == ("manager", "pending")
    runtime = app.state.runtime
    secret = mailed_link(runtime, "guest@x.example.org")
    guest = person(runtime, "guest@x.example.org")["Authorization"].removeprefix("Bearer ")
    joined = _json(ocx("invitation", "accept", f"https://ocx.example.org/invitations/{secret}",
                       "-o", "json", token=guest))
    assert joined["role"] == "manager"
    again = ocx("invitation", "accept", secret, token=guest)
    assert again.exit_code == 1 and "already used" in again.stderr
    other = _json(ocx("invitation", "create", "proj-a", "other@x.example.org", "-o", "json",
                      token=pi))
    assert _json(ocx("invitation", "revoke", "proj-a", other["id"], "-o", "json",
                     token=pi))["state"] == "revoked"
    listing = ocx("invitation", "list", "proj-a", token=pi)
    assert listing.stdout.splitlines()[0].split()[:3] == ["email", "role", "state"]
    assert {line.split()[0]: line.split()[2] for line in listing.stdout.splitlines()[1:]} == {
        "guest@x.example.org": "accepted", "other@x.example.org": "revoked"}


def test_eligibility_project_and_join_requests(ocx: Run, world: World, app: FastAPI) -> None:
    member, admin = world["member_a"].token, world["admin_a"].token
    refused = ocx("project", "request", "create", "org-a", "genomics", token=member)
    assert refused.exit_code == 1 and "not eligible" in refused.stderr
    asked = _json(ocx("pi-eligibility", "request", "org-a", "--reason", "faculty", "-o",
                      "json", token=member))
    assert _json(ocx("pi-eligibility", "approve", asked["id"], "-o", "json",
                     token=admin))["state"] == "approved"
    request = _json(ocx("project", "request", "create", "org-a", "genomics", "-o", "json",
                        token=member))
    assert _json(ocx("project", "request", "approve", request["id"], "-o", "json",
                     token=admin))["state"] == "approved"
    newcomer = person(app.state.runtime, "new@a.example.org", org="org-a")
    token = newcomer["Authorization"].removeprefix("Bearer ")
    join = _json(ocx("join-request", "create", "org-a:genomics", "--message", "hi", "-o",
                     "json", token=token))
    pending = ocx("join-request", "list", "--state", "pending", token=member)
    assert "new@a.example.org" in pending.stdout
    approved = _json(ocx("join-request", "approve", join["id"], "--role", "member", "-o",
                         "json", token=member))
    assert approved["state"] == "approved"
    assert _json(ocx("whoami", "-o", "json", token=token))["projects"] == {
        "org-a:genomics": "member"}


def test_terms_and_scim_tokens(ocx: Run, world: World) -> None:
    terms = _json(ocx("terms", "show", "-o", "json", token=world["member_a"].token))
    assert (terms["version"], terms["accepted"]) == ("", True)
    nothing = ocx("terms", "accept", token=world["member_a"].token)
    assert nothing.exit_code == 1 and "no terms of use" in nothing.stderr
    created = _json(ocx("scim-token", "create", "org-a", "--name", "campus idm", "-o", "json"))
    assert created["token"].startswith("ocxscim_")
    listed = _json(ocx("scim-token", "list", "org-a", "-o", "json"))
    assert [t["name"] for t in listed] == ["campus idm"]
    revoked = _json(ocx("scim-token", "revoke", "org-a", created["id"], "-o", "json"))
    assert revoked["revoked_at"]
    policy = _json(ocx("onboarding-policy", "set", "org-a", "--pi-affiliation",
                       "faculty@a.example.org", "--self-service", "-o", "json"))
    assert policy["pi_affiliations"] == ["faculty@a.example.org"]
    assert _json(ocx("onboarding-policy", "show", "org-a", "-o", "json"))[
        "self_service_projects"] is True
