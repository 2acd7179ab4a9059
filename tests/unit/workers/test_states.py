"""Backoff and what a failed attempt leads to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ocx.domain.operations.states import Backoff, OperationState, after_failure

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("attempts", "delay"), [(0, 2.0), (1, 2.0), (2, 4.0), (3, 8.0),
                                                 (4, 16.0), (6, 60.0), (500, 60.0)])
def test_backoff_doubles_up_to_the_cap(attempts: int, delay: float) -> None:
    assert Backoff(base_s=2.0, max_s=60.0).delay_s(attempts) == delay


def test_temporary_failure_with_attempts_left_is_retried_later() -> None:
    after = after_failure(attempts=2, max_attempts=5, permanent=False,
                          backoff=Backoff(1.0, 100.0), now=NOW)
    assert after.state is OperationState.PENDING
    assert after.delay_s == 2.0
    assert after.next_attempt_at == NOW + timedelta(seconds=2)


@pytest.mark.parametrize(("attempts", "permanent"), [(5, False), (1, True), (9, True)])
def test_permanent_or_exhausted_fails(attempts: int, permanent: bool) -> None:
    after = after_failure(attempts=attempts, max_attempts=5, permanent=permanent,
                          backoff=Backoff(1.0, 100.0), now=NOW)
    assert after.state is OperationState.FAILED
    assert after.next_attempt_at is None and after.delay_s is None
