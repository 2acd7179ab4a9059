"""Marketplace enumerations, free of SQLAlchemy (the CLI imports them)."""

from __future__ import annotations

from enum import StrEnum


class RateKind(StrEnum):
    """How a component is charged: per unit used over time, per unit of quota over time,
    a flat amount per period, or once."""

    USAGE = "usage"
    LIMIT = "limit"
    FIXED = "fixed"
    ONE_TIME = "one_time"
