"""Building events and reading spans back, for the metering tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from ocx.domain.metering.models import UsageShape, UsageSpan, UsageStream
from ocx.drivers.usage import UsageEvent
from ocx.runtime import Runtime

T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
SMALL = {"flavor": "m1.small", "vcpus": 1, "ram_mib": 2048, "gpus": 0, "gpu_type": None}
LARGE = {"flavor": "m1.large", "vcpus": 4, "ram_mib": 8192, "gpus": 0, "gpu_type": None}


def at(hours: float) -> datetime:
    """``hours`` after T0."""
    return T0 + timedelta(hours=hours)


def event(resource: str, hours: float, attributes: dict[str, Any] | None, *,
          tenant: str = "tenant-a", kind: str = "server", name: str = "") -> UsageEvent:
    """An event of ``resource`` at T0 + ``hours``."""
    return UsageEvent(source_event_id=f"test:{resource}:{name or hours}", tenant_id=tenant,
                      resource_kind=kind, resource_id=resource, at=at(hours),
                      attributes=attributes)


def server_life(resource: str = "srv-1", tenant: str = "tenant-a") -> list[UsageEvent]:
    """Create small (0 h), stop (2 h), start (3 h), resize to large (5 h), delete (9 h)."""
    return [event(resource, 0, {**SMALL, "state": "active"}, tenant=tenant),
            event(resource, 2, {"state": "stopped"}, tenant=tenant),
            event(resource, 3, {"state": "active"}, tenant=tenant),
            event(resource, 5, LARGE, tenant=tenant),
            event(resource, 9, None, tenant=tenant)]


def spans(runtime: Runtime) -> list[tuple[Any, ...]]:
    """Every span as (resource, meter, start, end, quantity, state, vcpus, size), sorted."""
    with runtime.sessions() as session:
        rows = session.scalars(select(UsageSpan)).all()
        return sorted((s.resource_id, s.meter, s.started_at, s.ended_at, s.quantity,
                       s.attributes.get("state"), s.attributes.get("vcpus"),
                       s.attributes.get("size_gib")) for s in rows)


def open_intervals(runtime: Runtime) -> list[tuple[str, datetime, dict[str, Any]]]:
    """Every open interval (a live resource's stream) as (resource, since, attributes),
    sorted."""
    with runtime.sessions() as session:
        rows = session.execute(
            select(UsageStream.resource_id, UsageStream.open_since, UsageShape.attributes)
            .outerjoin(UsageShape, UsageShape.id == UsageStream.open_shape_id)
            .where(UsageStream.open_since.is_not(None))).all()
        return sorted(rows)


def hours(value: float) -> Decimal:
    """A quantity of hours as the spans store it."""
    return Decimal(str(value)).quantize(Decimal("0.000001"))
