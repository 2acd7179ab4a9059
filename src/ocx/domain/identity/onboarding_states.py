"""Onboarding states, kept free of SQLAlchemy so that the CLI and client import them cheaply."""

from __future__ import annotations

from enum import StrEnum


class RequestState(StrEnum):
    """Where a request that someone decides (join, PI eligibility, new project) stands."""

    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"


class InvitationState(StrEnum):
    """An invitation link: usable while pending, then used, revoked or past its expiry."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REVOKED = "revoked"
    EXPIRED = "expired"


class EligibilitySource(StrEnum):
    """Why someone may lead projects: their institution says so, or a person approved it."""

    AFFILIATION = "affiliation"
    REQUEST = "request"
