"""The ``UsageCollector`` interface: a provider's resource changes since a cursor.

A collector reads what changed on a provider (servers created, resized, stopped,
deleted; volumes created, extended, deleted; floating IPs allocated and released) and
returns each change as a :class:`UsageEvent` with the provider's own time and a stable
id. It never touches the database: the worker passes the cursor it stored last time
and the resources OCX believes are live, and commits the events and the new cursor in
one transaction. Reading the same changes twice is therefore harmless (the ids repeat).
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ocx.drivers.base import Driver

SERVER, VOLUME, FLOATING_IP = "server", "volume", "floating_ip"


@dataclass(frozen=True)
class UsageEvent:
    """From ``at`` on, resource ``resource_id`` of tenant ``tenant_id`` is ``attributes``.

    ``attributes`` are merged over the resource's previous ones (a stop only says
    ``{"state": "stopped"}``); ``None`` means the resource is gone (deleted).
    """

    source_event_id: str  # stable across reads: the same change always has the same id
    tenant_id: str  # the provider's project id (an allocation's external id)
    resource_kind: str  # server | volume | floating_ip
    resource_id: str
    at: datetime  # timezone-aware UTC, the provider's time of the change
    attributes: Mapping[str, Any] | None


@dataclass(frozen=True)
class UsageBatch:
    """The events found, in time order, and the cursor to pass next time."""

    events: list[UsageEvent]
    position: dict[str, Any] = field(default_factory=dict)


class UsageCollector(Driver, abc.ABC):
    """A provider's usage feed. Entry-point group: ``ocx.drivers.usage``."""

    interface = "usage"

    @abc.abstractmethod
    def collect(self, position: Mapping[str, Any], tenants: Collection[str],
                live: Mapping[str, str], until: datetime) -> UsageBatch:
        """Every change of ``tenants``' resources after ``position`` and before ``until``,
        oldest first.

        ``live`` maps the ids of resources OCX believes are live to their kind, for
        providers that can only show deletions as absence. Events at or after ``until``
        are left for the next call, so each resource's events arrive in order.

        Raises:
            DriverError: the provider is unreachable or busy (retried).
            PermanentDriverError: the settings are wrong (e.g. refused credentials).
        """
