"""Budgets: crossing a threshold notifies the PI once per threshold per month."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ocx.domain.actor import SYSTEM
from ocx.domain.billing import budgets
from ocx.domain.operations.models import Operation
from ocx.drivers.notifier.fake import FakeNotifier
from ocx.runtime import Runtime
from ocx.workers.periodic import periodic_jobs
from tests.integration.billing.support import API, at, ok, server
from tests.integration.cli.conftest import Run
from tests.support.operations import run_due_operations
from tests.support.world import World

pytestmark = pytest.mark.billing


def check(runtime: Runtime, now: datetime) -> int:
    """Run the periodic budget check as of ``now``; how many alerts it journalled."""
    with runtime.sessions.begin() as session:
        return budgets.check_budgets(session, now)


def alerts(runtime: Runtime) -> list[str]:
    with runtime.sessions() as session:
        return sorted(session.scalars(select(Operation.idempotency_key).where(
            Operation.kind == budgets.ALERT)))


def test_thresholds_notify_the_pi_once_per_month(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any]) -> None:
    project = world.project_ids["a"]
    body = {"amount": "20.00", "thresholds": [100, 50, 80]}
    budget = ok(client.put(f"{API}/projects/{project}/budget", json=body,
                           headers=world["pi_a"].headers))
    assert budget["thresholds"] == [50, 80, 100] and budget["spent"] == "0.00"
    # 4 SU for 10 days at 0.013: 960 SU-hours, 12.48 dollars = 62.4 %
    server(runtime, market, project, "s1", at(1), at(11), vcpus=4, ram_mib=8192)
    assert check(runtime, at(11)) == 1
    assert check(runtime, at(11, 12)) == 0  # the same month again: no second alert
    assert run_due_operations(runtime) == 1
    notifier = runtime.notifier
    assert isinstance(notifier, FakeNotifier)
    (note,) = notifier.delivered.values()
    assert note.recipient == "pi@a.example.org" and "reached 50% in 2026-10" in note.subject
    assert "12.48 USD of its monthly budget of 20.00 USD" in note.body
    # three more days: 1248 SU-hours, 16.22 dollars = 81 %: the 80 % alert, once
    server(runtime, market, project, "s1", at(11), at(14), vcpus=4, ram_mib=8192)
    assert check(runtime, at(14)) == 1
    assert check(runtime, at(15)) == 0
    assert run_due_operations(runtime) == 1 and len(notifier.delivered) == 2
    with runtime.sessions() as session:  # what `budget show` said on October 20th
        shown = budgets.get_budget(session, SYSTEM, project, now=at(20))
    assert (shown.period, str(shown.spent), shown.percent, shown.notified) == (
        "2026-10", "16.22", Decimal("81.1"), [50, 80])
    # a new month starts over: November's 50 % alert is a new one
    server(runtime, market, project, "s1", at(1, month=11), at(11, month=11), vcpus=4,
           ram_mib=8192)
    assert check(runtime, at(11, month=11)) == 1
    assert alerts(runtime) == sorted(budgets.alert_key(uuid.UUID(project), p, t)
                                     for p, t in [("2026-10", 50), ("2026-10", 80),
                                                  ("2026-11", 50)])


def test_budget_checks_run_periodically(runtime: Runtime) -> None:
    (job,) = [j for j in periodic_jobs(runtime.settings) if j.name == "budgets_check"]
    assert job.run is budgets.check_budgets


def test_bad_budgets_are_refused(client: TestClient, world: World) -> None:
    project = world.project_ids["a"]
    url, pi = f"{API}/projects/{project}/budget", world["pi_a"].headers
    for body in [{"amount": "0"}, {"amount": "-5"}, {"amount": "10", "thresholds": []},
                 {"amount": "10", "thresholds": [50, 50]}, {"amount": "10", "currency": "usd"},
                 {"amount": "10", "thresholds": [0]}]:
        answer = client.put(url, json=body, headers=pi)
        assert answer.status_code == 422, (body, answer.text)
    missing = client.get(url, headers=pi)
    assert missing.status_code == 404 and "no budget" in missing.json()["error"]["message"]
    member = client.put(url, json={"amount": "10"}, headers=world["member_a"].headers)
    assert member.status_code == 403
    other = client.put(url, json={"amount": "10"}, headers=world["pi_b"].headers)
    assert other.status_code == 404


def test_budget_commands(ocx: Run, world: World) -> None:
    set_ = ocx("budget", "set", "org-a:proj-a", "--amount", "300", "--threshold", "90",
               "--threshold", "75", "-o", "json", token=world["pi_a"].token)
    assert set_.exit_code == 0, set_.output
    assert json.loads(set_.output)["thresholds"] == [75, 90]
    shown = ocx("budget", "show", "org-a:proj-a", token=world["member_a"].token)
    assert shown.exit_code == 0, shown.output
    assert "300.00" in shown.output and "USD" in shown.output
    refused = ocx("budget", "set", "org-a:proj-a", "--amount", "5",
                  token=world["member_a"].token)
    assert refused.exit_code == 1 and "may not budget set" in refused.output
