"""Client calls for onboarding and SCIM tokens (mixed into ``OcxClient``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import RootModel

from ocx.client.models import Page
from ocx.client.transport import Transport as _Transport
from ocx.client.transport import clean as _clean
from ocx.client.transport import seg as _seg
from ocx.domain.identity.onboarding_schemas import (
    InvitationPublic,
    JoinRequestPublic,
    OnboardingPolicyPublic,
    PiEligibilityPublic,
    ProjectRequestPublic,
    TermsStatus,
)
from ocx.domain.identity.schemas import MembershipPublic
from ocx.domain.identity.sso_schemas import ScimTokenCreated, ScimTokenPublic


class _ScimTokens(RootModel[list[ScimTokenPublic]]):
    """A bare JSON list of SCIM tokens."""






def _decision(approve: bool, note: str, **extra: Any) -> dict[str, Any]:
    return {"approve": approve, "note": note, **_clean(**extra)}


class OnboardingCalls:
    """Terms of use, invitations, join requests, PI eligibility, project requests, SCIM."""

    def terms(self: _Transport) -> TermsStatus:
        """The terms of use in force and whether the caller accepted them."""
        return self._read(TermsStatus, "GET", "terms")

    def accept_terms(self: _Transport, version: str) -> TermsStatus:
        """Accept terms ``version`` (it must be the one in force)."""
        return self._read(TermsStatus, "POST", "terms/accept", {"version": version})

    def create_invitation(self: _Transport, project: str, email: str, *, role: str,
                          membership_expires_at: datetime | None = None,
                          expires_in_days: int | None = None) -> InvitationPublic:
        """Invite an email address into a project (the link is mailed to it)."""
        body = _clean(email=email, role=role, membership_expires_at=membership_expires_at,
                      expires_in_days=expires_in_days)
        return self._read(InvitationPublic, "POST", f"projects/{_seg(project)}/invitations",
                          body)

    def list_invitations(self: _Transport, project: str, *, cursor: str | None = None,
                         limit: int | None = None) -> Page[InvitationPublic]:
        """One page of a project's invitations."""
        return self._page(Page[InvitationPublic], f"projects/{_seg(project)}/invitations",
                          cursor, limit)

    def revoke_invitation(self: _Transport, project: str, invitation: str) -> InvitationPublic:
        """Revoke a pending invitation."""
        return self._read(InvitationPublic, "DELETE",
                          f"projects/{_seg(project)}/invitations/{_seg(invitation)}")

    def accept_invitation(self: _Transport, token: str) -> MembershipPublic:
        """Accept an invitation sent to the caller's address."""
        return self._read(MembershipPublic, "POST", "invitations/accept", {"token": token})

    def create_join_request(self: _Transport, project: str, message: str = ""
                            ) -> JoinRequestPublic:
        """Ask to join a project."""
        return self._read(JoinRequestPublic, "POST", f"projects/{_seg(project)}/join-requests",
                          {"message": message})

    def list_join_requests(self: _Transport, *, state: str | None = None,
                           cursor: str | None = None, limit: int | None = None
                           ) -> Page[JoinRequestPublic]:
        """One page of one's own join requests and those one may decide."""
        return self._page(Page[JoinRequestPublic], "join-requests", cursor, limit, state=state)

    def get_join_request(self: _Transport, request: str) -> JoinRequestPublic:
        """One join request."""
        return self._read(JoinRequestPublic, "GET", f"join-requests/{_seg(request)}")

    def decide_join_request(self: _Transport, request: str, *, approve: bool, note: str = "",
                            role: str | None = None, expires_at: datetime | None = None
                            ) -> JoinRequestPublic:
        """Approve (with a role and expiry) or deny a join request."""
        return self._read(JoinRequestPublic, "POST", f"join-requests/{_seg(request)}/decision",
                          _decision(approve, note, role=role, expires_at=expires_at))

    def request_pi_eligibility(self: _Transport, organization: str, reason: str = ""
                               ) -> PiEligibilityPublic:
        """Ask to become eligible to lead projects of an organization."""
        return self._read(PiEligibilityPublic, "POST", "pi-eligibility",
                          {"organization": organization, "reason": reason})

    def list_pi_eligibility(self: _Transport, *, state: str | None = None,
                            cursor: str | None = None, limit: int | None = None
                            ) -> Page[PiEligibilityPublic]:
        """One page of eligibility records the caller may see."""
        return self._page(Page[PiEligibilityPublic], "pi-eligibility", cursor, limit,
                          state=state)

    def get_pi_eligibility(self: _Transport, row: str) -> PiEligibilityPublic:
        """One eligibility record."""
        return self._read(PiEligibilityPublic, "GET", f"pi-eligibility/{_seg(row)}")

    def decide_pi_eligibility(self: _Transport, row: str, *, approve: bool,
                              note: str = "") -> PiEligibilityPublic:
        """Approve or deny an eligibility request."""
        return self._read(PiEligibilityPublic, "POST", f"pi-eligibility/{_seg(row)}/decision",
                          _decision(approve, note))

    def revoke_pi_eligibility(self: Any, row: str) -> None:
        """Withdraw someone's eligibility."""
        self._send("DELETE", f"pi-eligibility/{_seg(row)}")

    def request_project(self: _Transport, organization: str, name: str, *,
                        description: str = "", reason: str = "") -> ProjectRequestPublic:
        """Ask for a new project, led by the caller."""
        return self._read(ProjectRequestPublic, "POST", "project-requests", {
            "organization": organization, "name": name, "description": description,
            "reason": reason})

    def list_project_requests(self: _Transport, *, state: str | None = None,
                              cursor: str | None = None, limit: int | None = None
                              ) -> Page[ProjectRequestPublic]:
        """One page of project requests the caller may see."""
        return self._page(Page[ProjectRequestPublic], "project-requests", cursor, limit,
                          state=state)

    def get_project_request(self: _Transport, request: str) -> ProjectRequestPublic:
        """One project request."""
        return self._read(ProjectRequestPublic, "GET", f"project-requests/{_seg(request)}")

    def decide_project_request(self: _Transport, request: str, *, approve: bool,
                               note: str = "") -> ProjectRequestPublic:
        """Approve (creating the project) or deny a project request."""
        return self._read(ProjectRequestPublic, "POST",
                          f"project-requests/{_seg(request)}/decision", _decision(approve, note))

    def onboarding_policy(self: _Transport, org: str) -> OnboardingPolicyPublic:
        """An organization's onboarding policy."""
        return self._read(OnboardingPolicyPublic, "GET",
                          f"organizations/{_seg(org)}/onboarding-policy")

    def set_onboarding_policy(self: _Transport, org: str, *, pi_affiliations: list[str],
                              self_service_projects: bool) -> OnboardingPolicyPublic:
        """Replace an organization's onboarding policy."""
        return self._read(OnboardingPolicyPublic, "PUT",
                          f"organizations/{_seg(org)}/onboarding-policy",
                          {"pi_affiliations": pi_affiliations,
                           "self_service_projects": self_service_projects})

    def create_scim_token(self: _Transport, org: str, name: str) -> ScimTokenCreated:
        """A SCIM token for an organization's provisioning client (shown once)."""
        return self._read(ScimTokenCreated, "POST", f"organizations/{_seg(org)}/scim-tokens",
                          {"name": name})

    def list_scim_tokens(self: _Transport, org: str) -> list[ScimTokenPublic]:
        """An organization's SCIM tokens."""
        return self._read(_ScimTokens, "GET", f"organizations/{_seg(org)}/scim-tokens").root

    def revoke_scim_token(self: _Transport, org: str, token: str) -> ScimTokenPublic:
        """Revoke a SCIM token."""
        return self._read(ScimTokenPublic, "DELETE",
                          f"organizations/{_seg(org)}/scim-tokens/{_seg(token)}")
