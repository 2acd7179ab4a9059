"""The terms of use for API callers: read them, accept them (``ocx terms``)."""

from __future__ import annotations

from fastapi import APIRouter

from ocx.api.deps import ActorDep, SessionDep, SettingsDep, declares
from ocx.domain.identity import onboarding
from ocx.domain.identity.onboarding_schemas import TermsAccept, TermsStatus
from ocx.domain.policy import Action

router = APIRouter(prefix="/terms", tags=["onboarding"])


@router.get("", response_model=TermsStatus, **declares(Action.TERMS_READ))
def show_terms(actor: ActorDep, session: SessionDep, settings: SettingsDep) -> TermsStatus:
    """The terms of use in force, where to read them, and whether you accepted them."""
    return onboarding.terms_status(session, actor, settings)


@router.post("/accept", response_model=TermsStatus, **declares(Action.TERMS_ACCEPT))
def accept_terms(body: TermsAccept, actor: ActorDep, session: SessionDep,
                 settings: SettingsDep) -> TermsStatus:
    """Accept the terms of use; ``version`` must be the one in force (GET /terms)."""
    return onboarding.accept_current_terms(session, actor, settings, body)
