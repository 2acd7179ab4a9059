"""Usage-log hours into spans without a radosgw: consecutive hours of one bucket, across a
month boundary, each counted exactly once (the real log is in test_usage.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from ocx.domain.marketplace.models import Offering
from ocx.domain.metering.collection import record_batch
from ocx.domain.metering.models import UsageSpan, UsageStream
from ocx.drivers.project.rgw_admin import RgwNotFound
from ocx.drivers.usage.rgw import HOUR, USAGE_LOG_SETTLE, RgwUsage
from ocx.runtime import Runtime
from tests.integration.metering.conftest import Metered, metered

__all__ = ["metered"]  # the fixture: offering "compute" with tenants tenant-a and tenant-b
pytestmark = pytest.mark.billing
LAST_HOUR = datetime(2026, 10, 31, 23, tzinfo=UTC)  # of October


class LogOnly:
    """An admin ops client answering only ``/admin/usage``, with a fixed log."""

    def __init__(self, buckets: list[dict[str, Any]]) -> None:
        self.buckets = buckets

    def call(self, method: str, resource: str, params: dict[str, Any]) -> Any:
        if resource != "usage":
            raise RgwNotFound("no buckets here")
        return {"entries": [{"user": params["uid"], "buckets": self.buckets}]}


def _hour(start: datetime, bucket: str, ops: int) -> dict[str, Any]:
    return {"bucket": bucket, "epoch": int(start.timestamp()), "owner": "tenant-a",
            "categories": [{"category": "get_obj", "ops": ops, "successful_ops": ops,
                            "bytes_sent": 0, "bytes_received": 0}]}


def test_consecutive_hours_across_a_month_are_each_counted_once(
        runtime: Runtime, metered: Metered) -> None:
    usage = RgwUsage(RgwUsage.Settings(endpoint="http://rgw.invalid", access_key="a",
                                       secret_key="s"))  # type: ignore[arg-type]
    next_hour = LAST_HOUR + HOUR
    usage._project._admin = LogOnly([  # type: ignore[assignment]
        _hour(LAST_HOUR, "busy", 7), _hour(next_hour, "busy", 11), _hour(next_hour, "", 2),
        _hour(next_hour + HOUR, "busy", 100)])  # still open at ``until``: not read
    until = next_hour + HOUR + USAGE_LOG_SETTLE
    position: dict[str, Any] = {}
    for _ in range(2):  # the second read finds the same hours again
        batch = usage.collect(position, {"tenant-a"}, {}, until)
        with runtime.sessions.begin() as session:
            offering = session.get(Offering, metered.offering_id)
            assert offering is not None
            record_batch(session, offering, batch.events, batch.position, until)
        position = batch.position
    with runtime.sessions() as session:
        spans = [(s.resource_id, s.started_at.replace(tzinfo=UTC),
                  s.ended_at.replace(tzinfo=UTC), s.quantity) for s in session.scalars(
                      select(UsageSpan).where(UsageSpan.meter == "object.requests")
                      .order_by(UsageSpan.started_at, UsageSpan.resource_id))]
        left_open = session.scalars(select(UsageStream.resource_kind).where(
            UsageStream.open_since.is_not(None))).all()
    assert spans == [("busy", LAST_HOUR, next_hour, Decimal(7)),
                     ("busy", next_hour, next_hour + HOUR, Decimal(11)),
                     ("tenant-a", next_hour, next_hour + HOUR, Decimal(2))]
    assert left_open == []
    assert position["usage_from"] == int((next_hour + HOUR).timestamp())  # the open hour
