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

Requests and bytes sent (RGW's usage log, ``/admin/usage``, when ``rgw enable usage
log = true``) become meters of their own: the log counts, per user, bucket and hour, the
operations and bytes of each category (``put_obj``, ``get_obj``...). Each closed hour
of a bucket becomes one span of that hour on ``object.requests`` (resource kind
``bucket_requests``, quantity = the hour's operations, failed ones included) and one on
``object.transfer_out`` (``bucket_transfer_out``, quantity = the GiB sent), each the
bucket's categories summed, with the counts per category in ``categories``. The
resource is the bucket's name (the RGW user's uid for requests outside any bucket, such
as listing the buckets), so an invoice has one line per bucket and meter. A span, once
ingested, never changes: an hour is read only when it is over and RGW has flushed it
(``USAGE_LOG_SETTLE`` after its end; RGW writes its log every ``rgw usage log tick
interval``, 30 s by default); operations RGW logs later than that are not counted.
Each hour is two events, its start (the count) and its end (the resource gone), with
ids ``rgw-usage:<uid>:<bucket>:<epoch of the hour>:<kind>`` (``:open`` for the start),
so reading an hour again adds nothing; the cursor keeps the first hour not yet read.

Restart-safe: the sizes and the usage log's next hour are in the cursor, committed in
the same transaction as the events, and event ids (``rgw:<bucket id>:<time>``,
``rgw-usage:...``) repeat if a batch is read again.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from ocx.drivers.project.rgw import GIB, RgwProject, bucket_size
from ocx.drivers.project.rgw_admin import RgwNotFound
from ocx.drivers.usage.base import UsageBatch, UsageCollector, UsageEvent

BUCKET, REQUESTS, TRANSFER_OUT = "bucket", "bucket_requests", "bucket_transfer_out"
HOUR = timedelta(hours=1)
# How long after an hour's end its usage log entries are taken as all written.
USAGE_LOG_SETTLE = timedelta(minutes=2)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class RgwUsage(UsageCollector):
    """Bucket sizes, and requests and bytes sent per hour, of the OCX users on one
    radosgw."""

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
        # Hours starting before ``closed`` are over and flushed: read once, never again.
        closed = _hour_of(until - USAGE_LOG_SETTLE)
        read_from = position.get("usage_from")
        for uid in sorted(set(tenants)):
            try:
                buckets = admin.call("GET", "bucket", {"uid": uid, "stats": True}) or []
            except RgwNotFound:  # the user is gone; its usage log's last hours still count
                buckets = []
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
                              "objects": objects, "bucket": str(bucket["bucket"])}
                events.append(UsageEvent(f"rgw:{bucket_id}:{at.isoformat()}", uid, BUCKET,
                                         bucket_id, at, attributes))
            events += self._traffic(uid, read_from, closed)
        events += [UsageEvent(f"rgw:{rid}:deleted", "", BUCKET, rid, until, None)
                   for rid, kind in live.items() if kind == BUCKET and rid not in sizes]
        # Stable: of two events at one time, a bucket's hour ends before its next opens.
        events.sort(key=lambda e: e.at)
        return UsageBatch(events, {"until": until.isoformat(), "sizes": sizes,
                                   "usage_from": int(closed.timestamp())})

    def _traffic(self, uid: str, read_from: int | None, closed: datetime
                 ) -> list[UsageEvent]:
        """Requests and bytes sent, per bucket and hour, of the usage log's hours from
        ``read_from`` (epoch seconds) up to ``closed``: two events per hour and meter."""
        params: dict[str, Any] = {"uid": uid, "show-summary": False}
        if read_from is not None:
            # From an hour early: asked to start at an hour, RGW leaves out that hour's
            # requests outside any bucket (its bucket ""); the hour before is dropped below.
            params["start"] = (datetime.fromtimestamp(read_from, UTC) - HOUR).strftime(
                "%Y-%m-%d %H:%M:%S")
        try:
            log = self._project.admin.call("GET", "usage", params) or {}
        except RgwNotFound:
            return []
        hours: dict[tuple[str, int], dict[str, dict[str, int]]] = {}
        for entry in log.get("entries", []):
            for bucket in entry.get("buckets", []):
                epoch = int(bucket["epoch"])
                if datetime.fromtimestamp(epoch, UTC) + HOUR > closed or (
                        read_from is not None and epoch < read_from):
                    continue
                name = str(bucket.get("bucket") or "")
                name = uid if name in ("", "-") else name
                into = hours.setdefault((name, epoch), {})
                for category in bucket.get("categories", []):
                    counts = into.setdefault(str(category["category"]), dict.fromkeys(
                        ("ops", "successful_ops", "bytes_sent", "bytes_received"), 0))
                    for key in counts:
                        counts[key] += int(category.get(key, 0))
        events: list[UsageEvent] = []
        for (name, epoch), categories in sorted(hours.items()):
            events += _hour_events(uid, name, epoch, categories)
        return events


def _hour_of(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _hour_events(uid: str, bucket: str, epoch: int,
                 categories: Mapping[str, Mapping[str, int]]) -> Iterable[UsageEvent]:
    """A bucket's closed hour as spans of that hour: on ``object.requests`` (quantity =
    operations) and ``object.transfer_out`` (quantity = GiB sent), when not zero."""
    total = {key: sum(c[key] for c in categories.values())
             for key in ("ops", "successful_ops", "bytes_sent", "bytes_received")}
    start = datetime.fromtimestamp(epoch, UTC)
    shared = {"bucket": bucket, "hour": start.isoformat(), **total,
              "categories": {name: dict(counts) for name, counts in sorted(categories.items())}}
    amounts: dict[str, dict[str, float]] = {REQUESTS: {"requests": total["ops"]},
               TRANSFER_OUT: {"transfer_out_gib": round(total["bytes_sent"] / GIB, 9)}}
    for kind, amount in amounts.items():
        if not any(amount.values()):
            continue
        event_id = f"rgw-usage:{uid}:{bucket}:{epoch}:{kind}"
        yield UsageEvent(f"{event_id}:open", uid, kind, bucket, start, {**shared, **amount})
        yield UsageEvent(event_id, uid, kind, bucket, start + HOUR, None)
