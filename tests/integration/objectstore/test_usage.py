"""Stored bytes in real RGW buckets, collected into usage spans and priced on an invoice.

The collector reads bucket sizes (exact, from the bucket index) each run: a bucket first
seen is recorded from its creation with its size then, a size change from the run that
saw it. The expected GiB-hours follow from those times, exactly as spans store them.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ocx.domain.metering import collection
from ocx.domain.metering.collection import SETTLE
from ocx.domain.metering.meters import QUANTUM, amount_hours
from ocx.domain.metering.models import UsageSpan
from ocx.drivers.project.rgw import GIB
from ocx.drivers.usage.rgw import USAGE_LOG_SETTLE
from ocx.runtime import Runtime
from tests.integration.billing.support import ok
from tests.integration.metering.conftest import collect
from tests.integration.objectstore.conftest import API, active_allocation, client_of, issue
from tests.integration.objectstore.server import RadosGateway
from tests.support.world import World

pytestmark = [pytest.mark.ceph, pytest.mark.billing]
MIB = 1024 * 1024
PRICE = Decimal("0.25")  # per GiB-hour: large enough for a few MiB-minutes to show


def _settled_collect(runtime: Runtime, offering_id: uuid.UUID) -> dict[str, object]:
    time.sleep(SETTLE.total_seconds() + 1)
    return collect(runtime, offering_id)


def test_stored_bytes_become_spans_and_invoice_lines(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any]) -> None:
    op = world["operator"].headers
    ok(client.post(f"{API}/offerings/cloudb:s3/plans", headers=op,
                   json={"name": "standard", "currency": "USD"}), 201)
    ok(client.post(f"{API}/price-book/cloudb:s3/plans/standard/rates", headers=op, json={
        "component": "object_gib", "unit_price": str(PRICE), "unit": "GiB-hour",
        "valid_from": "2026-01-01T00:00:00Z"}), 201)
    offering_id = uuid.UUID(market["id"])
    allocation = active_allocation(client, world, runtime)
    s3 = client_of(issue(client, world, runtime, "member_a", allocation["id"]))
    s3.create_bucket(Bucket="measured")
    s3.put_object(Bucket="measured", Key="one", Body=b"1" * MIB)
    assert _settled_collect(runtime, offering_id)["events"] == 1  # the bucket, from creation
    s3.put_object(Bucket="measured", Key="two", Body=b"2" * (3 * MIB))
    assert _settled_collect(runtime, offering_id)["events"] == 1  # its new size
    assert collect(runtime, offering_id)["events"] == 0  # nothing changed since

    with runtime.sessions() as session:
        spans = list(session.scalars(select(UsageSpan).where(
            UsageSpan.meter == "object.storage").order_by(UsageSpan.started_at)))
    assert len(spans) == 1, [(s.started_at, s.ended_at, s.attributes) for s in spans]
    span = spans[0]
    assert (span.resource_kind, span.unit, str(span.project_id)) == (
        "bucket", "GiB-hour", allocation["project_id"])
    assert span.attributes["bucket"] == "measured" and span.attributes["size_bytes"] == MIB
    assert span.attributes["objects"] == 1
    size_gib = Decimal(str(round(MIB / GIB, 9)))
    assert span.quantity == amount_hours(size_gib, span.started_at, span.ended_at
                                         ).quantize(QUANTUM)

    start = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    end = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    report = ok(client.get(f"{API}/usage", params={
        "project": "org-a:proj-a", "from": start, "to": end},
        headers=world["pi_a"].headers))
    seen = [s for s in report["spans"] if s["meter"] == "object.storage"]
    assert [s["open"] for s in seen] == [False, True]
    assert seen[1]["attributes"]["size_bytes"] == 4 * MIB

    period = datetime.now(UTC).strftime("%Y-%m")
    made = ok(client.post(f"{API}/invoices", headers=op,
                          json={"period": period, "organization": "org-a"}))
    invoice = ok(client.get(f"{API}/invoices/{made[0]['id']}", headers=op))
    lines = [line for line in invoice["lines"] if line["resource_kind"] == "bucket"]
    assert lines, invoice["lines"]
    assert {(line["component"], line["unit"], line["unit_price"]) for line in lines} == {
        ("object_gib", "GiB-hour", "0.250000")}
    assert sum(Decimal(line["quantity"]) for line in lines) >= span.quantity


def _flushed_log(rgw: RadosGateway, uid: str) -> dict[tuple[str, int], dict[str, int]]:
    """Per (bucket, hour epoch), the operations and bytes sent in RGW's usage log, once
    two reads a few ticks apart agree (radosgw flushes it every second here)."""
    last: dict[tuple[str, int], dict[str, int]] | None = None
    for _ in range(30):
        time.sleep(2)
        log = rgw.admin("usage", "show", f"--uid={uid}", "--show-log-sum=false")
        now: dict[tuple[str, int], dict[str, int]] = {}
        for entry in log["entries"]:
            for bucket in entry["buckets"]:
                name = bucket["bucket"] if bucket["bucket"] not in ("", "-") else uid
                into = now.setdefault((name, int(bucket["epoch"])),
                                      {"ops": 0, "bytes_sent": 0})
                for category in bucket["categories"]:
                    into["ops"] += category["ops"]
                    into["bytes_sent"] += category["bytes_sent"]
        if now and now == last:
            return now
        last = now
    raise AssertionError(f"RGW's usage log did not settle: {last}")


def test_requests_and_bytes_sent_become_spans_of_closed_hours_once(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        rgw: RadosGateway, monkeypatch: pytest.MonkeyPatch) -> None:
    offering_id = uuid.UUID(market["id"])
    allocation = active_allocation(client, world, runtime)
    uid = allocation["external_id"]
    s3 = client_of(issue(client, world, runtime, "member_a", allocation["id"]))
    s3.create_bucket(Bucket="busy")
    s3.put_object(Bucket="busy", Key="data", Body=b"d" * (2 * MIB))
    for _ in range(3):
        assert len(s3.get_object(Bucket="busy", Key="data")["Body"].read()) == 2 * MIB
    s3.list_buckets()
    log = _flushed_log(rgw, uid)
    assert log[("busy", max(epoch for _, epoch in log))]["bytes_sent"] >= 6 * MIB

    def traffic() -> list[UsageSpan]:
        with runtime.sessions() as session:
            return list(session.scalars(select(UsageSpan).where(UsageSpan.meter.in_(
                ("object.requests", "object.transfer_out"))).order_by(UsageSpan.meter)))

    # The hour is still open: nothing is read from it yet.
    collect(runtime, offering_id)
    assert traffic() == []

    later = max(datetime.fromtimestamp(epoch, UTC) for _, epoch in log) + timedelta(
        hours=1) + USAGE_LOG_SETTLE + SETTLE + timedelta(seconds=1)
    monkeypatch.setattr(collection, "utcnow", lambda: later)
    first = collect(runtime, offering_id)
    spans = traffic()
    requests = {(s.resource_id, int(s.started_at.replace(tzinfo=UTC).timestamp())): s
                for s in spans if s.meter == "object.requests"}
    sent = {(s.resource_id, int(s.started_at.replace(tzinfo=UTC).timestamp())): s
            for s in spans if s.meter == "object.transfer_out"}
    assert set(requests) == set(log), (requests, log)  # listing the buckets: under uid
    for key, counts in log.items():
        span = requests[key]
        assert (span.resource_kind, span.unit, str(span.project_id)) == (
            "bucket_requests", "request", allocation["project_id"])
        assert span.quantity == counts["ops"] and span.attributes["ops"] == counts["ops"]
        assert span.ended_at - span.started_at == timedelta(hours=1)
        if counts["bytes_sent"]:
            out = sent[key]
            assert (out.unit, out.attributes["bytes_sent"]) == ("GiB", counts["bytes_sent"])
            assert out.quantity == Decimal(str(round(counts["bytes_sent"] / GIB, 9))
                                           ).quantize(QUANTUM)
    busy = [span for (name, _), span in requests.items() if name == "busy"]
    assert {"put_obj", "get_obj"} <= set().union(*(s.attributes["categories"] for s in busy))
    assert first["spans"] == len(spans)

    again = collect(runtime, offering_id)  # the same hours read again: counted once
    assert (again["events"], again["spans"]) == (0, 0) and len(traffic()) == len(spans)
