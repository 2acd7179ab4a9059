"""Spans priced alike are summed by the database before rating (``billing.spans``): the
lines still come out exact and name every recorded span they were rated from."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ocx.domain.billing.spans import load_spans
from ocx.domain.identity.models import Project
from ocx.domain.metering.models import UsageSpan
from ocx.runtime import Runtime
from tests.integration.billing.support import API, at, ok, server
from tests.support.world import World

pytestmark = pytest.mark.billing


def lines_of(client: TestClient, world: World) -> dict[tuple[str, str], dict[str, Any]]:
    """org-a's October lines by (resource, unit price)."""
    op = world["operator"].headers
    made = ok(client.post(f"{API}/invoices", headers=op,
                          json={"period": "2026-10", "organization": "org-a"}))
    invoice = ok(client.get(f"{API}/invoices/{made[0]['id']}", headers=op))
    return {(line["resource_id"], line["unit_price"]): line for line in invoice["lines"]}


def test_lines_name_the_recorded_spans_they_come_from(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any]) -> None:
    a = world.project_ids["a"]
    # Two shapes before the rate change (two summed groups, one line), one span across
    # it (read as it is, split in two lines), one after it.
    before = [server(runtime, market, a, "s1", at(1), at(5), vcpus=2, ram_mib=4096),
              server(runtime, market, a, "s1", at(5), at(6), vcpus=2, ram_mib=4096,
                     state="stopped"),
              server(runtime, market, a, "s1", at(6), at(9), vcpus=2, ram_mib=4096)]
    across = server(runtime, market, a, "s1", at(9), at(20), vcpus=4, ram_mib=8192)
    after = server(runtime, market, a, "s1", at(20), at(22), vcpus=2, ram_mib=4096)
    lines = lines_of(client, world)
    assert set(lines[("s1", "0.013000")]["span_ids"]) == {*before, across}
    assert set(lines[("s1", "0.015000")]["span_ids"]) == {across, after}
    # 2 SU x (96 + 24 + 72) h + 4 SU x 168 h; then 4 SU x 96 h + 2 SU x 48 h
    assert (lines[("s1", "0.013000")]["quantity"], lines[("s1", "0.015000")]["quantity"]) == (
        "1056.000000", "480.000000")


def test_summed_quantities_are_exact(client: TestClient, world: World, runtime: Runtime,
                                     market: dict[str, Any]) -> None:
    a = world.project_ids["a"]
    odd = timedelta(minutes=7, seconds=13, microseconds=1)  # 0.120278 h a span, rounded
    starts = [at(2) + n * 2 * odd for n in range(40)]
    ids = [server(runtime, market, a, "s2", start, start + odd, vcpus=1, ram_mib=4096)
           for start in starts]
    with runtime.sessions() as session:
        recorded = list(session.scalars(select(UsageSpan.quantity)))
        org_id = session.get(Project, uuid.UUID(a)).organization_id  # type: ignore[union-attr]
        (summed,) = load_spans(session, {org_id}, at(1), at(1, month=11))[org_id]
    assert summed.quantity == sum(recorded, Decimal(0)) == Decimal("4.811120")
    assert set(summed.sources) == set(ids) and (summed.started_at, summed.ended_at) == (
        starts[0], starts[-1] + odd)
    assert lines_of(client, world)[("s2", "0.013000")]["quantity"] == "4.811120"
