"""An in-process usage feed: events published by tests (or the demo) and read back.

The feed is shared by every instance with the same ``cloud`` name in one process. Like
a real provider, it answers every event in a time window again if asked again.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from ocx.drivers.usage.base import UsageBatch, UsageCollector, UsageEvent
from ocx.errors import DriverError

_FEEDS: dict[str, list[UsageEvent]] = {}
_LOCK = threading.Lock()


def publish(cloud: str, *events: UsageEvent) -> None:
    """Add events to the feed of ``cloud`` (as if they had happened there)."""
    with _LOCK:
        _FEEDS.setdefault(cloud, []).extend(events)


def forget(cloud: str) -> None:
    """Empty the feed of ``cloud``."""
    with _LOCK:
        _FEEDS.pop(cloud, None)


class FakeUsage(UsageCollector):
    """Events kept in memory; ``down=True`` plays an unreachable provider."""

    class Settings(UsageCollector.Settings):
        cloud: str = "default"
        down: bool = False

    settings: Settings

    def collect(self, position: Mapping[str, Any], tenants: Collection[str],
                live: Mapping[str, str], until: datetime) -> UsageBatch:
        """Published events in [position's ``until``, ``until``), oldest first."""
        if self.settings.down:
            raise DriverError(f"fake cloud {self.settings.cloud} is unreachable")
        after = position.get("until")
        start = datetime.fromisoformat(after) if after else None
        with _LOCK:
            found = [e for e in _FEEDS.get(self.settings.cloud, [])
                     if e.at < until and (start is None or e.at >= start)
                     and e.tenant_id in tenants]
        found.sort(key=lambda e: e.at)
        return UsageBatch(found, {"until": until.isoformat()})
