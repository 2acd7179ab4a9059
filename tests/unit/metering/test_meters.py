"""Quantities, month boundaries and the fake feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ocx.domain.metering.collection import month_starts
from ocx.domain.metering.meters import meter_of
from ocx.drivers.usage import UsageEvent
from ocx.drivers.usage import fake as fake_feed
from ocx.drivers.usage.fake import FakeUsage
from ocx.errors import DriverError

T = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)


def test_quantities_are_exact_decimals() -> None:
    later = T + timedelta(minutes=20)
    assert meter_of("server").quantity({}, T, later) == Decimal("0.333333")
    assert meter_of("volume").quantity({"size_gib": 30}, T, later) == Decimal("10.000000")
    assert meter_of("floating_ip").unit == "hour"
    with pytest.raises(KeyError):
        meter_of("spaceship")


def test_month_starts_crossed() -> None:
    assert month_starts(None, T) == []
    assert month_starts(T, T + timedelta(hours=2)) == [datetime(2026, 11, 1, tzinfo=UTC)]
    assert month_starts(datetime(2026, 11, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC)) \
        == [datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC),
            datetime(2027, 2, 1, tzinfo=UTC)]


def test_the_fake_feed_answers_a_window_again_if_asked_again() -> None:
    cloud = "unit-meters"
    events = [UsageEvent(f"e{n}", "t1", "server", "s1", T + timedelta(hours=n), {"state": "x"})
              for n in range(3)]
    fake_feed.publish(cloud, *reversed(events),
                      UsageEvent("other", "t2", "server", "s2", T, {"state": "x"}))
    feed = FakeUsage(FakeUsage.Settings(cloud=cloud))
    first = feed.collect({}, {"t1"}, {}, T + timedelta(hours=2))
    assert [e.source_event_id for e in first.events] == ["e0", "e1"]
    assert [e.source_event_id for e in feed.collect({}, {"t1"}, {}, T + timedelta(hours=2))
            .events] == ["e0", "e1"]
    rest = feed.collect(first.position, {"t1"}, {}, T + timedelta(hours=9))
    assert [e.source_event_id for e in rest.events] == ["e2"]
    fake_feed.forget(cloud)
    with pytest.raises(DriverError):
        FakeUsage(FakeUsage.Settings(cloud=cloud, down=True)).collect({}, set(), {}, T)
