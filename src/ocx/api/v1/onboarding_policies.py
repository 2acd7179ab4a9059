"""An organization's onboarding policy (``ocx onboarding-policy``)."""

from __future__ import annotations

from fastapi import APIRouter

from ocx.api.deps import ActorDep, SessionDep, declares
from ocx.api.v1.organizations import OrgRef
from ocx.domain.identity import eligibility
from ocx.domain.identity.models import Organization
from ocx.domain.identity.onboarding_models import OnboardingPolicy
from ocx.domain.identity.onboarding_schemas import OnboardingPolicyPublic, OnboardingPolicyUpdate
from ocx.domain.policy import Action

router = APIRouter(prefix="/organizations/{org}/onboarding-policy", tags=["onboarding"])


def _view(found: tuple[Organization, OnboardingPolicy]) -> OnboardingPolicyPublic:
    org, row = found
    return OnboardingPolicyPublic(organization=org.name, pi_affiliations=row.pi_affiliations,
                                  self_service_projects=row.self_service_projects)


@router.get("", response_model=OnboardingPolicyPublic,
            **declares(Action.ONBOARDING_POLICY_READ))
def show_onboarding_policy(org: OrgRef, actor: ActorDep,
                           session: SessionDep) -> OnboardingPolicyPublic:
    """Which affiliations make a PI here, and whether eligible PIs get projects at once."""
    return _view(eligibility.get_policy(session, actor, org))


@router.put("", response_model=OnboardingPolicyPublic,
            **declares(Action.ONBOARDING_POLICY_UPDATE))
def set_onboarding_policy(org: OrgRef, body: OnboardingPolicyUpdate, actor: ActorDep,
                          session: SessionDep) -> OnboardingPolicyPublic:
    """Replace the organization's onboarding policy (operators, org admins)."""
    return _view(eligibility.set_policy(session, actor, org, body))
