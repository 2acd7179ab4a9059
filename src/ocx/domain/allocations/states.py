"""Allocation states and the moves between them (pure rules, no database)."""

from __future__ import annotations

from enum import StrEnum

from ocx.errors import Conflict


class AllocationState(StrEnum):
    """requested → approved → provisioning → active → (changing) → expired | disabled →
    released; or denied / failed."""

    REQUESTED = "requested"
    APPROVED = "approved"
    PROVISIONING = "provisioning"
    ACTIVE = "active"
    CHANGING = "changing"
    EXPIRED = "expired"
    DISABLED = "disabled"
    RELEASING = "releasing"
    RELEASED = "released"
    DENIED = "denied"
    FAILED = "failed"


class ChangeKind(StrEnum):
    """What a change request asks for."""

    QUOTA = "quota"
    RENEWAL = "renewal"


class ChangeState(StrEnum):
    """A change request's life: requested → approved (applied) | denied."""

    REQUESTED = "requested"
    APPROVED = "approved"
    DENIED = "denied"


S = AllocationState
MOVES: dict[AllocationState, frozenset[AllocationState]] = {
    S.REQUESTED: frozenset({S.APPROVED, S.DENIED, S.RELEASED}),
    S.APPROVED: frozenset({S.PROVISIONING}),
    S.PROVISIONING: frozenset({S.ACTIVE, S.FAILED, S.RELEASING}),
    S.ACTIVE: frozenset({S.CHANGING, S.EXPIRED, S.DISABLED, S.RELEASING}),
    S.CHANGING: frozenset({S.ACTIVE, S.EXPIRED, S.DISABLED, S.RELEASING}),
    S.EXPIRED: frozenset({S.CHANGING, S.ACTIVE, S.RELEASING}),
    S.DISABLED: frozenset({S.CHANGING, S.ACTIVE, S.RELEASING}),
    S.FAILED: frozenset({S.PROVISIONING, S.RELEASING, S.RELEASED}),
    S.RELEASING: frozenset({S.RELEASED}),
    S.RELEASED: frozenset(),
    S.DENIED: frozenset(),
}
# States in which a tenant exists (or is being made) on the provider.
ON_PROVIDER = frozenset({S.PROVISIONING, S.ACTIVE, S.CHANGING, S.EXPIRED, S.DISABLED})
# States in which members should have working access.
USABLE = frozenset({S.ACTIVE, S.CHANGING})


def check_move(current: AllocationState, target: AllocationState) -> None:
    """Raise unless an allocation may go from ``current`` to ``target``.

    Raises:
        Conflict: the move is not allowed, naming the current state.
    """
    if target not in MOVES[current]:
        raise Conflict(f"the allocation is {current.value}; it cannot become {target.value}")
