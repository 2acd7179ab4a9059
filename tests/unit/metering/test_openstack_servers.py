"""Nova instance actions -> usage events (no sockets: the answers are written here)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ocx.drivers.usage.openstack_servers import parse_time, server_events, shape

UNTIL = datetime(2026, 11, 1, tzinfo=UTC)
SMALL = {"original_name": "m1.small", "vcpus": 1, "ram": 2048, "disk": 10, "extra_specs": {}}
LARGE = {"original_name": "m1.large", "vcpus": 4, "ram": 8192, "disk": 10,
         "extra_specs": {"pci_passthrough:alias": "a100:2"}}


def server(flavor: dict[str, Any], status: str = "ACTIVE") -> dict[str, Any]:
    return {"id": "srv", "tenant_id": "t1", "status": status, "flavor": flavor,
            "updated": "2026-10-05T00:00:00Z"}


def action(name: str, day: int, message: str | None = None) -> dict[str, Any]:
    return {"action": name, "request_id": f"req-{name}-{day}", "message": message,
            "start_time": f"2026-10-{day:02d}T10:00:00.000000"}


def test_times_are_utc_with_or_without_a_zone() -> None:
    assert parse_time("2026-10-01T10:00:00.000000") == datetime(2026, 10, 1, 10, tzinfo=UTC)
    assert parse_time("2026-10-01T12:00:00+02:00") == datetime(2026, 10, 1, 10, tzinfo=UTC)
    assert parse_time("2026-10-01T10:00:00Z") == datetime(2026, 10, 1, 10, tzinfo=UTC)


def test_flavor_shapes_count_gpus() -> None:
    assert shape(SMALL) == {"flavor": "m1.small", "vcpus": 1, "ram_mib": 2048, "gpus": 0,
                            "gpu_type": None}
    assert shape(LARGE)["gpus"] == 2 and shape(LARGE)["gpu_type"] == "a100"
    assert shape({"vcpus": 2, "ram": 1, "extra_specs": {"resources:VGPU": "1"}})["gpus"] == 1


def test_a_lifecycle_in_nova_order() -> None:
    actions = [action("delete", 9), action("create", 1), action("stop", 2), action("start", 3),
               action("reboot", 4), action("shelve", 5), action("unshelve", 6),
               action("lock", 7), action("suspend", 8)]
    events = server_events(server(SMALL), actions, UNTIL)
    assert [(e.at.day, e.attributes) for e in events] == [
        (1, {**shape(SMALL), "state": "active"}), (2, {"state": "stopped"}),
        (3, {"state": "active"}), (4, {"state": "active"}), (5, {"state": "shelved"}),
        (6, {"state": "active"}), (8, {"state": "suspended"}), (9, None)]
    assert events[0].source_event_id == "nova:srv:req-create-1"
    assert {e.tenant_id for e in events} == {"t1"}


def test_only_the_newest_resize_knows_its_flavor() -> None:
    actions = [action("create", 1), action("resize", 2), action("confirmResize", 3),
               action("resize", 4), action("revertResize", 5)]
    events = server_events(server(LARGE), actions, UNTIL)
    # Walking back from the current flavor: the revert's is known, the resizes' before it
    # are not (they change nothing OCX can tell), and creation falls back to the current.
    assert [e.attributes for e in events] == [
        {**shape(LARGE), "state": "active"}, {}, {}, dict(shape(LARGE))]


def test_actions_of_the_same_second_keep_nova_order() -> None:
    actions = [action("resize", 3), action("start", 3), action("stop", 2), action("create", 1)]
    actions[0]["request_id"] = "req-a"  # ids are random: no order to find in them
    actions[1]["request_id"] = "req-z"
    events = server_events(server(LARGE), actions, UNTIL)  # Nova answers newest first
    assert [e.source_event_id for e in events] == [
        "nova:srv:req-create-1", "nova:srv:req-stop-2", "nova:srv:req-z", "nova:srv:req-a"]


def test_events_from_until_on_wait_for_the_next_run() -> None:
    events = server_events(server(SMALL), [action("create", 1), action("stop", 2)],
                           datetime(2026, 10, 2, tzinfo=UTC))
    assert [e.at.day for e in events] == [1]


@pytest.mark.parametrize(("actions", "status", "expected"), [
    ([action("create", 1, message="Error")], "ERROR", ["error"]),
    ([action("create", 1), action("stop", 2, message="Error")], "ERROR", ["active", "error"]),
    ([action("create", 1)], "ERROR", ["active", "error"]),
])
def test_errors(actions: list[dict[str, Any]], status: str, expected: list[str]) -> None:
    events = server_events(server(SMALL, status), actions, UNTIL)
    assert [e.attributes["state"] for e in events if e.attributes] == expected
