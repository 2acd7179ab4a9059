"""Onboarding: versioned terms of use that every user accepts, again when they change."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ocx.domain.actor import Actor
from ocx.domain.audit import service as audit
from ocx.domain.identity.federation_models import TermsAcceptance
from ocx.errors import InvalidInput


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
