"""``GET /api/v1/usage`` and ``ocx usage show``: a project's usage over a period."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from ocx.drivers.usage import fake as fake_feed
from ocx.runtime import Runtime
from tests.integration.cli.conftest import Run
from tests.integration.metering.conftest import Metered, collect
from tests.integration.metering.support import LARGE, at, event, server_life
from tests.support.world import World

pytestmark = pytest.mark.billing


def usage(client: TestClient, who: str, world: World, start: str, end: str,
          project: str = "org-a:proj-a") -> dict:  # type: ignore[type-arg]
    answer = client.get("/api/v1/usage", headers=world[who].headers,
                        params={"project": project, "from": start, "to": end})
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


@pytest.fixture
def recorded(runtime: Runtime, metered: Metered) -> Metered:
    """srv-1's life in project a; a large server still running in project b."""
    fake_feed.publish(metered.cloud, *server_life(),
                      event("srv-b", 1, {**LARGE, "state": "active"}, tenant="tenant-b"))
    collect(runtime, metered.offering_id, until=at(12))
    return metered


def test_members_see_their_project_cut_to_the_period(client: TestClient, world: World,
                                                     recorded: Metered) -> None:
    report = usage(client, "member_a", world, at(1).isoformat(), at(4).isoformat())
    assert report["project"] == "org-a:proj-a"
    assert [(s["started_at"], s["ended_at"], s["quantity"], s["attributes"]["state"])
            for s in report["spans"]] == [
        ("2026-10-01T09:00:00Z", "2026-10-01T10:00:00Z", "1.000000", "active"),
        ("2026-10-01T10:00:00Z", "2026-10-01T11:00:00Z", "1.000000", "stopped"),
        ("2026-10-01T11:00:00Z", "2026-10-01T12:00:00Z", "1.000000", "active")]
    assert report["totals"] == [{"meter": "compute.server", "unit": "hour",
                                 "quantity": "3.000000"}]


def test_running_resources_count_up_to_the_period_end(client: TestClient, world: World,
                                                      recorded: Metered) -> None:
    report = usage(client, "admin_b", world, at(0).isoformat(), at(6).isoformat(),
                   project="org-b:proj-b")
    (span,) = report["spans"]
    assert span["open"] is True and span["quantity"] == "5.000000"
    assert span["attributes"]["vcpus"] == 4


def test_bad_periods_and_hidden_projects(client: TestClient, world: World,
                                         recorded: Metered) -> None:
    reversed_period = client.get("/api/v1/usage", headers=world["member_a"].headers, params={
        "project": "org-a:proj-a", "from": at(4).isoformat(), "to": at(1).isoformat()})
    assert reversed_period.status_code == 422
    naive = client.get("/api/v1/usage", headers=world["member_a"].headers, params={
        "project": "org-a:proj-a", "from": "2026-10-01T00:00:00", "to": at(1).isoformat()})
    assert naive.status_code == 422
    hidden = client.get("/api/v1/usage", headers=world["outsider"].headers, params={
        "project": "org-a:proj-a", "from": at(0).isoformat(), "to": at(1).isoformat()})
    assert hidden.status_code == 404


def test_cli_usage_show(ocx: Run, world: World, recorded: Metered) -> None:
    table = ocx("usage", "show", "--project", "org-a:proj-a", "--from", "2026-10-01",
                "--to", "2026-10-02", token=world["pi_a"].token)
    assert table.exit_code == 0, table.output
    assert "compute.server" in table.output and "9.000000" in table.output
    raw = ocx("usage", "show", "--project", "org-a:proj-a", "--from", "2026-10-01",
              "--to", "2026-10-02", "-o", "json", token=world["pi_a"].token)
    assert len(json.loads(raw.output)["spans"]) == 4
    denied = ocx("usage", "show", "--project", "org-a:proj-a", "--from", "2026-10-01",
                 "--to", "2026-10-02", token=world["member_b"].token)
    assert denied.exit_code == 1 and "not found" in denied.output
