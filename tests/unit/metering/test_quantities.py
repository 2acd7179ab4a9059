"""Ingestion's integer quantities are exactly the meters' Decimal ones (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from ocx.domain.metering.ingest import Quantities
from ocx.domain.metering.meters import meter_of

T0 = datetime(2026, 10, 1, tzinfo=UTC)
SIZES = st.one_of(st.integers(min_value=0, max_value=10**6),
                  st.decimals(min_value=0, max_value=10**4, places=3))
# Up to a year, to the microsecond; and durations hitting a half micro-unit exactly.
DURATIONS = st.one_of(st.integers(min_value=0, max_value=366 * 24 * 3600 * 10**6),
                      st.integers(min_value=0, max_value=10**6).map(lambda n: 1800 + 3600 * n))


def quantities(url: str, shapes: dict[int, dict[str, object]]) -> Quantities:
    """Quantities for a database at ``url`` (never connected to: only its dialect)."""
    return Quantities(Session(create_engine(url)), shapes)


@pytest.mark.parametrize("kind", ["server", "volume"])
@given(size=SIZES, micros=DURATIONS)
# Exact ties of a whole amount: amount x microseconds = 1800 (mod 3600).
@example(size=3, micros=600).via("a tie")
@example(size=25, micros=72).via("a tie")
@example(size=12, micros=1350).via("a tie")
def test_quantities_match_the_meter_to_the_last_digit(kind: str, size: Decimal | int,
                                                      micros: int) -> None:
    shapes: dict[int, dict[str, object]] = {1: {"size_gib": size, "state": "active"}}
    meter, until = meter_of(kind), T0 + timedelta(microseconds=micros)
    expected = meter.quantity(shapes[1], T0, until)
    on_sqlite = quantities("sqlite://", shapes)
    assert on_sqlite.decimal(meter, 1, T0, until) == expected
    # What SQLite is given is the double nearest the exact value, as for a Decimal.
    assert on_sqlite(meter, 1, T0, until) == float(expected)
    on_postgres = quantities("postgresql+psycopg://", shapes)
    bound = on_postgres(meter, 1, T0, until)
    assert bound == expected and isinstance(bound, Decimal)
