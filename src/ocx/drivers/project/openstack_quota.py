"""OCX quota components on Nova, Cinder and Neutron quota sets, both ways."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openstack.connection import Connection

from ocx.errors import PermanentDriverError

# component -> (service type in the catalog, attribute of openstacksdk's quota resource)
COMPONENTS: Mapping[str, tuple[str, str]] = {
    "cores": ("compute", "cores"),
    "ram_mib": ("compute", "ram"),
    "instances": ("compute", "instances"),
    "volumes": ("block-storage", "volumes"),
    "storage_gib": ("block-storage", "gigabytes"),
    "snapshots": ("block-storage", "snapshots"),
    "floating_ips": ("network", "floating_ips"),
    "networks": ("network", "networks"),
    "ports": ("network", "ports"),
    "routers": ("network", "routers"),
    "security_groups": ("network", "security_groups"),
}
SERVICES = ("compute", "block-storage", "network")


def _by_service(service: str) -> dict[str, str]:
    return {component: attr for component, (svc, attr) in COMPONENTS.items() if svc == service}


def read(conn: Connection, project_id: str, service: str) -> tuple[dict[str, int],
                                                                 dict[str, int]]:
    """(limits, usage) by component for one service of the project."""
    wanted = _by_service(service)
    if service == "network":
        details = conn.network.get_quota(project_id, details=True)
        entries: dict[str, dict[str, int]] = {c: getattr(details, a) or {}
                                              for c, a in wanted.items()}
        return ({c: int(e.get("limit", -1)) for c, e in entries.items()},
                {c: int(e.get("used", 0)) for c, e in entries.items()})
    reader: Any = conn.compute if service == "compute" else conn.block_storage
    qs = reader.get_quota_set(project_id, usage=True)
    usage = qs.usage or {}
    return ({c: int(getattr(qs, a)) for c, a in wanted.items() if getattr(qs, a) is not None},
            {c: int(usage.get(a, 0)) for c, a in wanted.items()})


def write(conn: Connection, project_id: str, quota: Mapping[str, int]) -> None:
    """Set the given components' limits, one update per service."""
    unknown = sorted(set(quota) - set(COMPONENTS))
    if unknown:
        raise PermanentDriverError(f"OpenStack knows no quota component {', '.join(unknown)}; "
                                   f"it maps {', '.join(sorted(COMPONENTS))}")
    for service in SERVICES:
        attrs = {a: int(quota[c]) for c, a in _by_service(service).items() if c in quota}
        if not attrs:
            continue
        if service == "network":
            conn.network.update_quota(project_id, **attrs)
        else:
            proxy: Any = conn.compute if service == "compute" else conn.block_storage
            proxy.update_quota_set(project_id, **attrs)
