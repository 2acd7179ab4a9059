"""Usage from an OpenStack cloud: Nova servers, Cinder volumes, Neutron floating IPs.

Event-driven, not per-server polling: each run asks Nova only for the servers that
changed since the cursor (``changes-since``, which includes deleted ones) and rebuilds
their lifecycles from their instance actions with Nova's own times
(:mod:`openstack_servers`). Volumes and floating IPs have no action history: their
creation (and a volume's new size) come from ``created_at``/``updated_at``, and a
deletion is seen as absence from the listing, dated at the run that noticed it.

It reads the same admin settings as the offering's ``openstack`` project driver.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from openstack import exceptions as sdk_exceptions
from openstack.connection import Connection

from ocx.drivers.project.openstack import OpenStackProject
from ocx.drivers.project.openstack_errors import translated
from ocx.drivers.usage.base import FLOATING_IP, VOLUME, UsageBatch, UsageCollector, UsageEvent
from ocx.drivers.usage.openstack_servers import parse_time, server_events

NOVA_VERSION = "2.58"  # instance actions of deleted servers, with changes-since; flavors
CINDER_VERSION = "3.60"  # the newest Cinder of OpenStack 2023.2 and later answers
OVERLAP = timedelta(minutes=2)  # re-read this much before the cursor (ids deduplicate)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PAGE = 500


class OpenStackUsage(UsageCollector):
    """Server, volume and floating IP lifecycles of the OCX tenants on one cloud."""

    class Settings(OpenStackProject.Settings):
        """Exactly the offering's ``openstack`` project-driver settings (both drivers read
        the same stored settings): OCX signs in as the cloud's administrator."""

    settings: Settings

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        # The admin connection is made (once, lazily) as the project driver makes it.
        self._admin = OpenStackProject(settings)

    @property
    def conn(self) -> Connection:
        """The admin connection."""
        return self._admin.conn

    def collect(self, position: Mapping[str, Any], tenants: Collection[str],
                live: Mapping[str, str], until: datetime) -> UsageBatch:
        """Server, volume and floating IP events of ``tenants`` before ``until``."""
        after = position.get("until")
        since = parse_time(after) - OVERLAP if after else EPOCH
        wanted = set(tenants)
        with translated(self.settings.auth_url, "collect usage"):
            events = self._servers(since, wanted, until)
            events += self._volumes(since, wanted, live, until)
            events += self._floating_ips(wanted, live, until)
        events.sort(key=lambda e: e.at)
        return UsageBatch(events, {"until": until.isoformat()})

    def _get(self, service: Any, path: str, key: str, params: dict[str, Any],
             microversion: str | None = None, *, optional: bool = False
             ) -> Iterator[dict[str, Any]]:
        """Every item of a paged listing (marker paging, as Nova, Cinder and Neutron do);
        nothing if ``optional`` and the service does not have this API (404)."""
        params = {**params, "limit": PAGE}
        while True:
            answer = service.get(path, params=params, microversion=microversion,
                                 raise_exc=False)
            if optional and answer.status_code == 404:
                return
            sdk_exceptions.raise_from_response(answer)
            items = answer.json()[key]
            yield from items
            # The last page is short; a service that ignores paging answers the same page.
            if len(items) < PAGE or params.get("marker") == items[-1]["id"]:
                return
            params["marker"] = items[-1]["id"]

    def _servers(self, since: datetime, tenants: set[str], until: datetime
                 ) -> list[UsageEvent]:
        compute = self.conn.compute
        events: list[UsageEvent] = []
        changed = self._get(compute, "/servers/detail", "servers", {
            "all_tenants": 1, "changes-since": since.isoformat()}, NOVA_VERSION)
        for server in changed:
            if server["tenant_id"] not in tenants:
                continue
            actions = list(self._get(compute, f"/servers/{server['id']}/os-instance-actions",
                                     "instanceActions", {}, NOVA_VERSION))
            events += server_events(server, actions, until)
        return events

    def _volumes(self, since: datetime, tenants: set[str], live: Mapping[str, str],
                 until: datetime) -> list[UsageEvent]:
        storage = self.conn.block_storage
        events: list[UsageEvent] = []
        present: set[str] = set()
        for volume in self._get(storage, "/volumes/detail", "volumes",
                                {"all_tenants": 1}, CINDER_VERSION):
            present.add(volume["id"])
            tenant = volume.get("os-vol-tenant-attr:tenant_id", "")
            if tenant not in tenants or volume.get("status") in ("deleting", "error_deleting"):
                continue
            attributes = {"size_gib": int(volume["size"]),
                          "volume_type": volume.get("volume_type")}
            created = parse_time(volume["created_at"])
            if created < until:
                events.append(UsageEvent(f"cinder:{volume['id']}:created", tenant, VOLUME,
                                         volume["id"], created, attributes))
            updated = parse_time(volume.get("updated_at") or volume["created_at"])
            if since <= updated < until and updated > created:
                events.append(UsageEvent(f"cinder:{volume['id']}:{updated.isoformat()}",
                                         tenant, VOLUME, volume["id"], updated, attributes))
        return events + _gone(live, VOLUME, present, until, "cinder")

    def _floating_ips(self, tenants: set[str], live: Mapping[str, str], until: datetime
                      ) -> list[UsageEvent]:
        network = self.conn.network
        events: list[UsageEvent] = []
        present: set[str] = set()
        # A Neutron without the L3 router plugin has no floating IPs at all.
        for fip in self._get(network, "/floatingips", "floatingips", {}, optional=True):
            present.add(fip["id"])
            created = parse_time(fip["created_at"])
            if fip["project_id"] in tenants and created < until:
                events.append(UsageEvent(f"neutron:{fip['id']}:created", fip["project_id"],
                                         FLOATING_IP, fip["id"], created,
                                         {"address": fip["floating_ip_address"]}))
        return events + _gone(live, FLOATING_IP, present, until, "neutron")


def _gone(live: Mapping[str, str], kind: str, present: set[str], until: datetime,
          service: str) -> list[UsageEvent]:
    """Resources OCX has open that the provider no longer lists: deleted by now."""
    return [UsageEvent(f"{service}:{rid}:deleted", "", kind, rid, until, None)
            for rid, rkind in live.items() if rkind == kind and rid not in present]
