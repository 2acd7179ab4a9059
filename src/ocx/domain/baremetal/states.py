"""Bare-metal states, free of SQLAlchemy so that the CLI and the client import them cheaply."""

from __future__ import annotations

from enum import StrEnum


class AttachmentMode(StrEnum):
    """How a NIC carries a network: untagged (one per NIC) or tagged."""

    ACCESS = "access"
    TAGGED = "tagged"


class AttachmentState(StrEnum):
    """attaching → attached → detaching → (gone); the switch follows through operations."""

    ATTACHING = "attaching"
    ATTACHED = "attached"
    DETACHING = "detaching"


class PortChangeState(StrEnum):
    """pending → applying (claimed by one operation's batch) → done | failed."""

    PENDING = "pending"
    APPLYING = "applying"
    DONE = "done"
    FAILED = "failed"


class OfferState(StrEnum):
    """An offer is available until its owner withdraws it (leases already made stay)."""

    AVAILABLE = "available"
    WITHDRAWN = "withdrawn"


class LeaseState(StrEnum):
    """created → active (at its start) → ending (node being cleaned) → expired;
    created → cancelled (before its start)."""

    CREATED = "created"
    ACTIVE = "active"
    ENDING = "ending"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


# Leases that hold their node's time window (the exclusion constraint's WHERE clause).
HOLDING = (LeaseState.CREATED, LeaseState.ACTIVE, LeaseState.ENDING)
