"""Billing test support: a priced marketplace and a factory of usage spans (METERS.md)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from ocx.domain.metering.streams import SpanRecord, StreamOf, record_span
from ocx.runtime import Runtime
from tests.support.world import World

API = "/api/v1"
OFFERING = "cloudb:compute"
COMPONENTS = [{"name": "cores", "unit": "core", "max": 64, "default": 4},
              {"name": "ram_mib", "unit": "MiB", "max": 262144, "default": 8192},
              {"name": "storage_gib", "unit": "GiB", "max": 10000, "default": 100},
              {"name": "floating_ips", "unit": "address", "max": 10, "default": 1}]
RULES = {"service_units": [
    {"component": "cpu_su", "vcpus": 1, "ram_mib": 4096},
    {"component": "gpu_a100_su", "gpu_type": "a100", "vcpus": 16, "ram_mib": 65536, "gpus": 1}]}
KIND = {"compute.server": "server", "volume.storage": "volume",
        "network.floating_ip": "floating_ip"}


def at(day: int, hour: int = 0, month: int = 10) -> datetime:
    """A time in 2026 (October by default), UTC."""
    return datetime(2026, month, day, hour, tzinfo=UTC)


def ok(response: Any, status: int = 200) -> Any:
    """The JSON body of a response that must have ``status``."""
    assert response.status_code == status, response.text
    return response.json()


def priced_market(client: TestClient, world: World) -> dict[str, Any]:
    """org-b sells cloudb:compute with plan "standard": CPU and A100 service units,
    cpu_su 0.013 until Oct 16 then 0.015, storage 0.0001/GiB-hour, IPs 0.005/hour."""
    op = world["operator"].headers
    ok(client.post(f"{API}/providers", json={"organization": "org-b", "name": "cloudb"},
                   headers=op), 201)
    offering = ok(client.post(f"{API}/offerings", headers=op, json={
        "provider": "cloudb", "name": "compute", "kind": "openstack", "driver": "fake",
        "driver_settings": {"cloud": f"bill-{uuid.uuid4().hex}"}, "components": COMPONENTS}),
        201)
    ok(client.post(f"{API}/offerings/{OFFERING}/plans", headers=op,
                   json={"name": "standard", "currency": "USD"}), 201)
    ok(client.put(f"{API}/price-book/{OFFERING}/plans/standard/rules", json=RULES,
                  headers=op))
    for component, price, start, unit in [
            ("cpu_su", "0.013", "2026-01-01T00:00:00Z", None),
            ("cpu_su", "0.015", "2026-10-16T00:00:00Z", None),
            ("gpu_a100_su", "1.50", "2026-01-01T00:00:00Z", None),
            ("storage_gib", "0.0001", "2026-01-01T00:00:00Z", "GiB-hour"),
            ("floating_ips", "0.005", "2026-01-01T00:00:00Z", "hour")]:
        body = {"component": component, "unit_price": price, "valid_from": start}
        if unit:
            body["unit"] = unit
        ok(client.post(f"{API}/price-book/{OFFERING}/plans/standard/rates", json=body,
                       headers=op), 201)
    return {"offering_id": offering["id"], "provider_id": offering["provider_id"]}


def add_span(runtime: Runtime, market: dict[str, Any], project_id: str, meter: str,
             resource_id: str, start: datetime, end: datetime, *,
             user_id: str | None = None, **attributes: Any) -> int:
    """Record one span as a collector would; quantity per METERS.md. Returns its id."""
    hours = Decimal((end - start).total_seconds()) / 3600
    quantity = hours * Decimal(attributes["size_gib"]) if meter == "volume.storage" else hours
    stream = StreamOf(
        project_id=uuid.UUID(project_id), allocation_id=None,
        provider_id=uuid.UUID(market["provider_id"]),
        offering_id=uuid.UUID(market["offering_id"]),
        user_id=uuid.UUID(user_id) if user_id else None, resource_kind=KIND[meter],
        resource_id=resource_id, meter=meter,
        unit={"volume.storage": "GiB-hour"}.get(meter, "hour"))
    with runtime.sessions.begin() as session:
        span = record_span(session, SpanRecord(
            stream=stream, attributes=attributes, quantity=quantity.quantize(Decimal("1e-6")),
            started_at=start, ended_at=end,
            source_event_id=f"test:{resource_id}:{start.isoformat()}:{end.isoformat()}"))
        session.flush()
        return span.id


def server(runtime: Runtime, market: dict[str, Any], project_id: str, resource_id: str,
           start: datetime, end: datetime, *, vcpus: int, ram_mib: int, state: str = "active",
           gpus: int = 0, gpu_type: str | None = None, user_id: str | None = None) -> int:
    """A compute.server span."""
    return add_span(runtime, market, project_id, "compute.server", resource_id, start, end,
                    user_id=user_id, vcpus=vcpus, ram_mib=ram_mib, gpus=gpus,
                    gpu_type=gpu_type, state=state, flavor=f"{vcpus}c{ram_mib}m")
