"""The meters OCX records, and how a span's quantity follows from its time and shape.

Time-based meters carry ``quantity = amount x hours`` so that rating can split a span
proportionally at month and rate boundaries (see docs/metering.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

MICROSECOND = timedelta(microseconds=1)
MICROSECONDS_PER_HOUR = Decimal(3_600_000_000)
QUANTUM = Decimal("0.000001")


@dataclass(frozen=True)
class Meter:
    """A meter: its name, unit, and the attribute its hours are multiplied by (if any)."""

    name: str
    unit: str
    amount_key: str | None = None

    def quantity(self, attributes: Mapping[str, Any], started_at: datetime,
                 ended_at: datetime) -> Decimal:
        """The span's quantity: hours, or ``attributes[amount_key]`` x hours, rounded
        once, half to even, to six decimals. The amount multiplies the microseconds
        (exactly) before the one division: dividing first would round the hours to 28
        digits, and the product of a rounded value can land on the wrong side of a tie
        (3 GiB for 600 us is exactly 0.0000005 GiB-hours; 3 x 0.0000001666...67 is not)."""
        amount = Decimal(str(attributes.get(self.amount_key) or 0)) if self.amount_key else 1
        return amount_hours(amount, started_at, ended_at).quantize(QUANTUM)


METERS: dict[str, Meter] = {
    "server": Meter("compute.server", "hour"),
    "volume": Meter("volume.storage", "GiB-hour", "size_gib"),
    "floating_ip": Meter("network.floating_ip", "hour"),
    "bucket": Meter("object.storage", "GiB-hour", "size_gib"),  # RGW buckets
    # RGW's usage log: spans of one closed hour each, so quantity = the hour's count.
    "bucket_requests": Meter("object.requests", "request", "requests"),
    "bucket_transfer_out": Meter("object.transfer_out", "GiB", "transfer_out_gib"),
}


def amount_hours(amount: Decimal | int, started_at: datetime, ended_at: datetime) -> Decimal:
    """``amount`` x the hours from ``started_at`` to ``ended_at``: the amount multiplies
    the microseconds, then one division (exact to 28 digits, and never a false tie)."""
    return amount * Decimal((ended_at - started_at) // MICROSECOND) / MICROSECONDS_PER_HOUR


def hours_between(started_at: datetime, ended_at: datetime) -> Decimal:
    """Hours from ``started_at`` to ``ended_at``, exact to the microsecond (Decimal)."""
    return amount_hours(1, started_at, ended_at)


def meter_of(resource_kind: str) -> Meter:
    """The meter recording ``resource_kind``.

    Raises:
        KeyError: OCX has no meter for this kind of resource.
    """
    return METERS[resource_kind]
