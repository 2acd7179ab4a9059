"""Onboarding: versioned terms of use that every user accepts, again when they change,
in the web UI and, before anything else, through the API."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ocx.config import Settings
from ocx.domain import policy
from ocx.domain.actor import Actor
from ocx.domain.audit import service as audit
from ocx.domain.identity.federation_models import TermsAcceptance
from ocx.domain.identity.onboarding_schemas import TermsAccept, TermsStatus
from ocx.domain.policy import Action
from ocx.errors import Forbidden, InvalidInput


def needs_terms(session: Session, actor: Actor, version: str) -> bool:
    """Whether the actor has yet to accept terms ``version`` ("" means no terms)."""
    if not version or actor.user_id is None:
        return False
    return session.scalar(select(TermsAcceptance.id).where(
        TermsAcceptance.user_id == actor.user_id, TermsAcceptance.version == version)) is None


def accept_terms(session: Session, actor: Actor, version: str, accepted: str) -> None:
    """Record that the actor accepted terms ``version`` (``accepted``: the version the page
    showed them, so an acceptance never counts for terms changed in the meantime).

    Raises:
        InvalidInput: the terms changed while the page was open.
    """
    if accepted != version:
        raise InvalidInput("the terms of use have changed; please read them again")
    if not needs_terms(session, actor, version):
        return
    row = TermsAcceptance(user_id=actor.user_id, version=version)
    session.add(row)
    session.flush()
    audit.record(session, actor, "user.terms.accept", "user", row.user_id,
                 changes={"version": version})


# --- terms of use for API callers -------------------------------------------------------

class TermsNotAccepted(Forbidden):
    """The caller has yet to accept the terms of use in force."""

    type = "terms_not_accepted"


# What a caller may do before accepting: read and accept the terms, see who they are
# (routes without an action, such as /me) and manage their own tokens.
TERMS_EXEMPT = frozenset({Action.TERMS_READ.value, Action.TERMS_ACCEPT.value,
                          Action.TOKEN_LIST.value, Action.TOKEN_REVOKE.value})


def require_terms(session: Session, actor: Actor, settings: Settings,
                  action: str | None) -> None:
    """Refuse an API call by a user who has not accepted the current terms of use.

    Raises:
        TermsNotAccepted: with the version and where to read and accept it.
    """
    if action is None or action in TERMS_EXEMPT:
        return
    version = settings.terms_version
    if needs_terms(session, actor, version):
        where = f" at {settings.terms_url}" if settings.terms_url else ""
        raise TermsNotAccepted(
            f"accept the terms of use (version {version}) first: read them{where}, then run "
            f"`ocx terms accept` or POST /api/v1/terms/accept with {{\"version\": "
            f"\"{version}\"}} (or accept them on the web at /terms)")


def terms_status(session: Session, actor: Actor, settings: Settings) -> TermsStatus:
    """The terms in force and whether the actor accepted them."""
    policy.authorize(actor, Action.TERMS_READ)
    accepted_at = session.scalar(select(TermsAcceptance.created_at).where(
        TermsAcceptance.user_id == actor.user_id,
        TermsAcceptance.version == settings.terms_version)) if settings.terms_version else None
    return TermsStatus(version=settings.terms_version, url=settings.terms_url,
                       accepted=not needs_terms(session, actor, settings.terms_version),
                       accepted_at=accepted_at)


def accept_current_terms(session: Session, actor: Actor, settings: Settings,
                         body: TermsAccept) -> TermsStatus:
    """Accept the version of the terms the caller read (it must be the one in force).

    With no terms in force there is nothing to accept, and nothing is recorded.

    Raises:
        InvalidInput: the terms changed since the caller read them.
    """
    policy.authorize(actor, Action.TERMS_ACCEPT)
    if settings.terms_version and actor.user_id is not None:
        accept_terms(session, actor, settings.terms_version, body.version)
    return terms_status(session, actor, settings)
