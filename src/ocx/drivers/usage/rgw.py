"""Usage from a Ceph RADOS Gateway: the stored size of every bucket of OCX's RGW users.

RGW keeps no history of sizes, so each run reads the buckets of the tenants' users
(``GET /admin/bucket?uid=U&stats=true``, exact: from the bucket index) and compares
their sizes with those recorded in the cursor. A bucket seen for the first time is
recorded from its ``creation_time`` with the size it has now; a size that changed is
recorded from this run's time (``until``); a bucket OCX has open that is no longer
listed was deleted, dated at the run that noticed it. Sizes are therefore exact to one
collection period (60 s), and a bucket that grows and shrinks back between two runs
is not seen. Each bucket is one resource of kind ``bucket`` (meter ``object.storage``,
GiB-hours), with ``size_gib``, ``size_bytes``, ``objects`` and its name.

Requests and bytes transferred (RGW's usage log, ``/admin/usage``) are added to each
bucket's attributes as running totals (``ops``, ``bytes_sent``, ``bytes_received``)
when the usage log is on; they ride along on the size events and are not a meter.

Restart-safe: the sizes are in the cursor, committed in the same transaction as the
events, and event ids (``rgw:<bucket id>:<time>``) repeat if a batch is read again.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from ocx.drivers.project.rgw import GIB, RgwProject, bucket_size
from ocx.drivers.project.rgw_admin import RgwNotFound
from ocx.drivers.usage.base import UsageBatch, UsageCollector, UsageEvent

BUCKET = "bucket"


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class RgwUsage(UsageCollector):
    """Bucket sizes of the OCX users on one radosgw."""

    class Settings(RgwProject.Settings):
        """Exactly the offering's ``rgw`` project-driver settings."""

    settings: Settings

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._project = RgwProject(settings)

    def collect(self, position: Mapping[str, Any], tenants: Collection[str],
                live: Mapping[str, str], until: datetime) -> UsageBatch:
        """Size changes of the tenants' buckets, and the buckets gone, before ``until``."""
        admin = self._project.admin
        known: dict[str, int] = dict(position.get("sizes", {}))
        sizes: dict[str, int] = {}
        events: list[UsageEvent] = []
        for uid in sorted(set(tenants)):
            try:
                buckets = admin.call("GET", "bucket", {"uid": uid, "stats": True}) or []
            except RgwNotFound:
                continue
            traffic = self._traffic(uid)
            for bucket in buckets:
                bucket_id, (size, objects) = str(bucket["id"]), bucket_size(bucket)
                created = _time(str(bucket.get("creation_time") or bucket["mtime"]))
                if created >= until:
                    continue
                sizes[bucket_id] = size
                if known.get(bucket_id) == size:
                    continue
                at = created if bucket_id not in known else until
                attributes = {"size_gib": round(size / GIB, 9), "size_bytes": size,
                              "objects": objects, "bucket": str(bucket["bucket"]),
                              **traffic.get(str(bucket["bucket"]), {})}
                events.append(UsageEvent(f"rgw:{bucket_id}:{at.isoformat()}", uid, BUCKET,
                                         bucket_id, at, attributes))
        events += [UsageEvent(f"rgw:{rid}:deleted", "", BUCKET, rid, until, None)
                   for rid, kind in live.items() if kind == BUCKET and rid not in sizes]
        events.sort(key=lambda e: e.at)
        return UsageBatch(events, {"until": until.isoformat(), "sizes": sizes})

    def _traffic(self, uid: str) -> dict[str, dict[str, int]]:
        """Per bucket, the usage log's totals of operations and bytes (empty if off)."""
        try:
            log = self._project.admin.call("GET", "usage", {"uid": uid}) or {}
        except RgwNotFound:
            return {}
        totals: dict[str, dict[str, int]] = {}
        for entry in log.get("entries", []):
            for bucket in entry.get("buckets", []):
                into = totals.setdefault(str(bucket.get("bucket", "")),
                                         {"ops": 0, "bytes_sent": 0, "bytes_received": 0})
                for category in bucket.get("categories", []):
                    for key in into:
                        into[key] += int(category.get(key, 0))
        return totals
