"""The operation state machine's pure rules: backoff and what a failed attempt leads to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class OperationState(StrEnum):
    """pending → running → done | failed; a failed attempt with attempts left is pending again."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff: ``base_s`` after the first failure, doubling, capped at ``max_s``."""

    base_s: float
    max_s: float

    def delay_s(self, attempts: int) -> float:
        """Seconds to wait after ``attempts`` failed attempts (1 = the first failure)."""
        exponent = min(max(attempts - 1, 0), 62)  # 2**62 is already past any sane cap
        return float(min(self.max_s, self.base_s * 2**exponent))


@dataclass(frozen=True)
class AfterFailure:
    """Where a failed attempt leaves the operation."""

    state: OperationState
    next_attempt_at: datetime | None
    delay_s: float | None


def after_failure(*, attempts: int, max_attempts: int, permanent: bool, backoff: Backoff,
                  now: datetime) -> AfterFailure:
    """Retry later (pending) if the error is temporary and attempts remain, else fail."""
    if permanent or attempts >= max_attempts:
        return AfterFailure(OperationState.FAILED, None, None)
    delay = backoff.delay_s(attempts)
    return AfterFailure(OperationState.PENDING, now + timedelta(seconds=delay), delay)
