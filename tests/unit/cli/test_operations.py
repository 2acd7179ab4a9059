"""ocx operation: list, show, retry, and wait until done or failed."""

from __future__ import annotations

import json

import httpx

from tests.unit.cli.conftest import FakeApi, Run
from tests.unit.client import payloads


def _states(api: FakeApi, *states: str, last_error: str | None = None) -> str:
    """Make the operation pass through ``states``; return its id."""
    first = payloads.operation(states[0])
    path = f"/operations/{first['id']}"
    api.routes[("GET", path)] = [
        httpx.Response(200, json={**first, "state": state, "attempts": number,
                                  "last_error": last_error if state == "failed" else None})
        for number, state in enumerate(states)]
    return str(first["id"])


def test_wait_reports_each_change_and_prints_the_final_operation(ocx: Run,
                                                                 api: FakeApi) -> None:
    op_id = _states(api, "pending", "running", "running", "done")
    result = ocx("operation", "wait", op_id, "--interval", "0.05", "-o", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["state"] == "done"
    assert [line.split(": ")[1] for line in result.stderr.splitlines()] == [
        "pending, attempt 0/8", "running, attempt 1/8", "running, attempt 2/8",
        "done, attempt 3/8"]


def test_wait_on_a_failed_operation_exits_1_with_its_error(ocx: Run, api: FakeApi) -> None:
    op_id = _states(api, "running", "failed", last_error="keystone refused")
    result = ocx("operation", "wait", op_id, "--interval", "0.05")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == f"error: operation {op_id} failed: keystone refused"
    assert "keystone refused" in result.stdout


def test_wait_gives_up_after_the_timeout(ocx: Run, api: FakeApi) -> None:
    op_id = _states(api, "pending")
    result = ocx("operation", "wait", op_id, "--timeout", "0")
    assert result.exit_code == 124
    assert result.stderr.splitlines()[-1] == f"error: operation {op_id} is still pending after 0s"


def test_wait_on_a_terminal_shows_a_spinner_not_lines(ocx: Run, api: FakeApi) -> None:
    op_id = _states(api, "running", "done")
    result = ocx("operation", "wait", op_id, "--interval", "0.05", "-o", "json",
                 env={"TTY_COMPATIBLE": "1"})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["state"] == "done"
    assert "attempt 0/8\n" not in result.stderr


def test_wait_on_an_unknown_operation_is_the_api_error(ocx: Run, api: FakeApi) -> None:
    api.answer("GET", "/operations/nope", 404, payloads.error("not_found", "no such operation"))
    result = ocx("operation", "wait", "nope")
    assert (result.exit_code, result.stderr) == (1, "error: no such operation\n")


def test_list_filters_by_state_and_retry_posts(ocx: Run, api: FakeApi) -> None:
    failed = payloads.operation("failed")
    api.answer("GET", "/operations", 200, payloads.page([failed]))
    result = ocx("operation", "list", "--state", "failed")
    assert result.exit_code == 0, result.output
    assert str(failed["id"]) in result.stdout
    assert api.requests[-1].url.params["state"] == "failed"
    assert ocx("operation", "list", "--kind", "notify.member_added").exit_code == 0
    assert api.requests[-1].url.params["kind"] == "notify.member_added"
    api.answer("POST", f"/operations/{failed['id']}/retry", 200, payloads.operation("pending"))
    assert ocx("operation", "retry", str(failed["id"])).exit_code == 0
