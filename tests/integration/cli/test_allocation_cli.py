"""The allocation flow with the ocx CLI against a served OCX and a worker thread."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocx.runtime import Runtime
from tests.integration.cli.conftest import Run
from tests.support.operations import run_due_operations
from tests.support.world import World


@pytest.fixture
def worker(runtime: Runtime) -> Iterator[None]:
    """A thread that runs due operations, like `ocx worker` would."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(0.1):
            run_due_operations(runtime)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(10)


def _json(result: object) -> dict[str, object]:
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    return json.loads(result.stdout)  # type: ignore[attr-defined,no-any-return]


def test_request_approve_credentials_drift_release(ocx: Run, world: World, worker: None,
                                                  tmp_path: Path) -> None:
    cloud = f"cli-{uuid.uuid4().hex}"
    _json(ocx("provider", "create", "cloudb", "--org", "org-b", "-o", "json"))
    offering = _json(ocx("offering", "create", "compute", "--provider", "cloudb",
                         "--kind", "openstack", "--driver", "fake",
                         "--settings", json.dumps({"cloud": cloud}),
                         "--component", "cores:core:64:4", "--component", "ram_mib:MiB::8192",
                         "-o", "json", token=world["admin_b"].token))
    assert offering["driver_settings"] == {"cloud": cloud, "down": False}
    plan = _json(ocx("plan", "create", "cloudb:compute", "standard",
                     "--rate", "cores:usage:core-hour:0.012", "-o", "json",
                     token=world["admin_b"].token))
    assert plan["rates"][0]["unit_price"] == "0.012000"
    pi = world["pi_a"].token
    allocation = _json(ocx("allocation", "request", "--project", "org-a:proj-a",
                           "--offering", "cloudb:compute", "--quota", "cores=8", "-o", "json",
                           token=pi))
    assert allocation["quota"] == {"cores": 8, "ram_mib": 8192}
    active = _json(ocx("allocation", "approve", str(allocation["id"]), "--wait", "-o", "json",
                       token=world["admin_b"].token))
    assert active["state"] == "active"
    written = ocx("allocation", "credentials", str(allocation["id"]), "--dir", str(tmp_path),
                  token=world["member_a"].token)
    assert written.exit_code == 0, written.output
    credentials = tmp_path / "fake-credentials.ini"
    assert "secret = " in credentials.read_text()
    assert credentials.stat().st_mode & 0o777 == 0o600
    in_line = ocx("allocation", "drift", str(allocation["id"]), token=pi)
    assert (in_line.exit_code, in_line.stdout.strip()) == (
        0, "in line: the provider matches OCX")
    bad = ocx("allocation", "request", "--project", "org-a:proj-a", "--offering",
              "cloudb:compute", "--quota", "gpus=1", token=pi)
    assert bad.exit_code == 1
    assert "compute has no component gpus" in bad.stderr
    released = _json(ocx("allocation", "release", str(allocation["id"]), "-o", "json",
                         token=pi))
    assert released["state"] == "releasing"


def test_changes_are_listed_and_suspension_is_disable_then_enable(
        ocx: Run, world: World, worker: None) -> None:
    admin_b, pi = world["admin_b"].token, world["pi_a"].token
    _json(ocx("provider", "create", "cloudb", "--org", "org-b", "-o", "json"))
    _json(ocx("offering", "create", "compute", "--provider", "cloudb", "--kind", "openstack",
              "--driver", "fake", "--settings", json.dumps({"cloud": f"cli-{uuid.uuid4().hex}"}),
              "--component", "cores:core:64:4", "-o", "json", token=admin_b))
    allocation = _json(ocx("allocation", "request", "--project", "org-a:proj-a",
                           "--offering", "cloudb:compute", "-o", "json", token=pi))
    alloc_id = str(allocation["id"])
    _json(ocx("allocation", "approve", alloc_id, "--wait", "-o", "json", token=admin_b))
    change = _json(ocx("allocation", "change", alloc_id, "--quota", "cores=6",
                       "--justification", "bigger runs", "-o", "json", token=pi))
    listed = ocx("allocation", "changes", alloc_id, "-o", "json", token=pi)
    assert listed.exit_code == 0, listed.output
    assert [(c["id"], c["state"], c["quota"]) for c in json.loads(listed.stdout)] == [
        (change["id"], "requested", {"cores": 6})]
    table = ocx("allocation", "changes", alloc_id, token=pi)
    assert "bigger runs" in table.stdout and "requested" in table.stdout
    no_reason = ocx("allocation", "disable", alloc_id, token=admin_b)
    assert no_reason.exit_code == 2 and "--reason" in no_reason.stderr
    disabled = _json(ocx("allocation", "disable", alloc_id, "--reason", "unpaid invoice",
                         "--wait", "-o", "json", token=admin_b))
    assert (disabled["state"], disabled["status_message"]) == (
        "disabled", "disabled: unpaid invoice")
    assert disabled["observed"]["enabled"] is False
    refused = ocx("allocation", "disable", alloc_id, "--reason", "again", token=pi)
    assert refused.exit_code == 1 and "may not allocation decide" in refused.stderr
    enabled = _json(ocx("allocation", "enable", alloc_id, "--reason", "paid", "--wait",
                        "-o", "json", token=admin_b))
    assert enabled["state"] == "active" and enabled["observed"]["enabled"] is True


def test_offering_update_changes_approval_and_renewal_bounds(ocx: Run, world: World) -> None:
    admin_b = world["admin_b"].token
    _json(ocx("provider", "create", "cloudb", "--org", "org-b", "-o", "json"))
    created = _json(ocx("offering", "create", "compute", "--provider", "cloudb", "--kind",
                        "openstack", "--driver", "fake", "--component", "cores:core:64:4",
                        "--auto-renewals", "0", "-o", "json", token=admin_b))
    assert (created["auto_approve"], created["auto_renewals"], created["auto_term_days"]) == (
        False, 0, 366)
    updated = _json(ocx("offering", "update", "cloudb:compute", "--auto-approve",
                        "--auto-renewals", "3", "--auto-term-days", "730", "--inactive",
                        "-o", "json", token=admin_b))
    assert (updated["auto_approve"], updated["auto_renewals"], updated["auto_term_days"],
            updated["is_active"]) == (True, 3, 730, False)
    nothing = ocx("offering", "update", "cloudb:compute", token=admin_b)
    assert nothing.exit_code == 2 and "nothing to change" in nothing.stderr
    bad = ocx("offering", "update", "cloudb:compute", "--auto-term-days", "0", token=admin_b)
    assert bad.exit_code == 2 and "--auto-term-days" in bad.stderr
    refused = ocx("offering", "update", "cloudb:compute", "--auto-renewals", "9",
                  token=world["pi_a"].token)
    assert refused.exit_code != 0 and "may not" in refused.stderr
