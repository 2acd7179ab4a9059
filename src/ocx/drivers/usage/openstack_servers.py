"""Nova servers' lifecycles rebuilt from instance actions, with Nova's own times.

Each action a server went through (``os-instance-actions``) becomes an event at the
action's ``start_time``: create opens the server with its flavor, stop/start, shelve/
unshelve, suspend/resume and pause/unpause change its state, resize changes its shape,
delete ends it. A failed action (``message`` set) and a server Nova shows in ERROR put
it in the ``error`` state. Which states are billed is the price book's business.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ocx.drivers.usage.base import SERVER, UsageEvent

# The state a server is in after each action (actions not listed change nothing billable).
STATE_AFTER = {
    "create": "active", "start": "active", "stop": "stopped", "reboot": "active",
    "shelve": "shelved", "shelveOffload": "shelved", "unshelve": "active",
    "suspend": "suspended", "resume": "active", "pause": "paused", "unpause": "active",
    "restore": "active", "rebuild": "active",
}
GONE = frozenset({"delete", "forceDelete"})
RESIZES = frozenset({"resize", "revertResize"})


def parse_time(text: str) -> datetime:
    """A Nova/Cinder/Neutron timestamp (with or without zone) as aware UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def shape(flavor: Mapping[str, Any]) -> dict[str, Any]:
    """The billable shape of an embedded flavor (microversion >= 2.47)."""
    specs = flavor.get("extra_specs") or {}
    gpu_type, gpus = None, 0
    # e.g. "resources:VGPU": "1", or "pci_passthrough:alias": "a100:2"
    for key, value in specs.items():
        if key == "resources:VGPU":
            gpu_type, gpus = "vgpu", int(value)
        elif key == "pci_passthrough:alias" and ":" in str(value):
            gpu_type, count = str(value).split(":", 1)
            gpus = int(count)
    return {"flavor": flavor.get("original_name"), "vcpus": int(flavor.get("vcpus", 0)),
            "ram_mib": int(flavor.get("ram", 0)), "gpus": gpus, "gpu_type": gpu_type}


def _flavors_after(actions: Sequence[Mapping[str, Any]], current: dict[str, Any]
                   ) -> list[dict[str, Any] | None]:
    """The shape after each action (oldest first), known for the newest resize only.

    Nova keeps no flavor history: walking back from the server's current flavor, the
    shape before a resize is unknown (None), and OCX keeps the one it recorded.
    """
    known: dict[str, Any] | None = current
    shapes: list[dict[str, Any] | None] = []
    for action in reversed(actions):
        shapes.append(known)
        if action["action"] in RESIZES:
            known = None
    shapes.reverse()
    return shapes


def server_events(server: Mapping[str, Any], actions: Sequence[Mapping[str, Any]],
                  until: datetime) -> list[UsageEvent]:
    """The events of one server (its detail and all its actions) before ``until``."""
    # Nova lists the newest first and keeps times to the second: reversed and sorted
    # stably by time, actions of the same second stay in the order they happened.
    ordered = sorted(reversed(actions), key=lambda a: parse_time(a["start_time"]))
    current = shape(server.get("flavor") or {})
    events = []
    state = None
    for action, after in zip(ordered, _flavors_after(ordered, current), strict=True):
        at = parse_time(action["start_time"])
        if at >= until:
            break
        name = action["action"]
        attributes: dict[str, Any] | None
        failed = bool(action.get("message"))
        if name in GONE:
            attributes = None
        elif name == "create":
            attributes = {**(after or current), "state": "error" if failed else "active"}
        elif failed:
            attributes = {"state": "error"}
        elif name in RESIZES:
            attributes = dict(after) if after else {}
        elif name in STATE_AFTER:
            attributes = {"state": STATE_AFTER[name]}
        else:
            continue
        state = None if attributes is None else attributes.get("state", state)
        events.append(_event(server, f"nova:{server['id']}:{action['request_id']}", at,
                             attributes))
    return events + _error_event(server, state, until, bool(events) and events[-1].attributes
                                 is None)


def _event(server: Mapping[str, Any], event_id: str, at: datetime,
           attributes: Mapping[str, Any] | None) -> UsageEvent:
    return UsageEvent(source_event_id=event_id, tenant_id=str(server["tenant_id"]),
                      resource_kind=SERVER, resource_id=str(server["id"]), at=at,
                      attributes=attributes)


def _error_event(server: Mapping[str, Any], state: str | None, until: datetime,
                 gone: bool) -> list[UsageEvent]:
    """A server Nova shows in ERROR that no failed action explained: error since updated."""
    if gone or server.get("status") != "ERROR" or state == "error":
        return []
    at = parse_time(str(server["updated"]))
    if at >= until:
        return []
    return [_event(server, f"nova:{server['id']}:error:{at.isoformat()}", at,
                   {"state": "error"})]
