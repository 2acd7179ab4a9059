"""Sharing usage spans among days: the series behind the usage plots."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from ocx.domain.metering.daily import day_shares, series_of
from ocx.domain.metering.schemas import UsageSpanPublic

FIRST = date(2026, 10, 1)


def _at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, tzinfo=UTC)


def _span(meter: str, start: datetime, end: datetime, quantity: str) -> UsageSpanPublic:
    return UsageSpanPublic(resource_kind="server", resource_id="s1", meter=meter, unit="hour",
                           quantity=Decimal(quantity), started_at=start, ended_at=end,
                           attributes={}, offering_id=None, open=False)


def test_a_span_is_shared_by_its_time_on_each_day() -> None:
    # 18:00 on the 1st to 06:00 on the 3rd: 6 h, 24 h, 6 h of 36 h
    shares = day_shares(_at(1, 18), _at(3, 6), FIRST, 5)
    assert shares == [(0, Decimal(6) / 36), (1, Decimal(24) / 36), (2, Decimal(6) / 36)]


def test_an_instant_counts_on_its_day_and_days_outside_are_dropped() -> None:
    assert day_shares(_at(2, 5), _at(2, 5), FIRST, 3) == [(1, Decimal(1))]
    assert day_shares(_at(4, 5), _at(4, 5), FIRST, 3) == []
    assert [i for i, _ in day_shares(_at(2), _at(9), FIRST, 3)] == [1, 2]


def test_series_sum_per_meter_and_day_and_keep_the_total() -> None:
    spans = [_span("compute.server", _at(1, 12), _at(2, 12), "24"),
             _span("compute.server", _at(2), _at(3), "48"),  # two vCPU-like units a day
             _span("network.floating_ip", _at(3), _at(3, 1), "1")]
    series = series_of(spans, FIRST, 3)
    assert [s.meter for s in series] == ["compute.server", "network.floating_ip"]
    servers, ips = series
    assert servers.quantities == [Decimal("12.000000"), Decimal("60.000000"), Decimal("0E-6")]
    assert servers.total == Decimal("72.000000")
    assert ips.quantities == [0, 0, 1] and ips.total == 1
