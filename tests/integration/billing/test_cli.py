"""The billing flow with the real ``ocx`` commands against a served app."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.cli.conftest import Run
from tests.support.world import World

pytestmark = pytest.mark.billing


def test_price_book_and_invoice_commands(ocx: Run, world: World,
                                         october: dict[str, Any]) -> None:
    shown = ocx("price-book", "show", "cloudb:compute")
    assert shown.exit_code == 0, shown.output
    assert "service unit gpu_a100_su" in shown.output and "power" in shown.output
    rate = ocx("price-book", "set-rate", "cloudb:compute", "standard", "storage_gib", "0.0002",
               "--from", "2026-12-01T00:00:00Z", "-o", "json")
    assert rate.exit_code == 0, rate.output
    assert json.loads(rate.output)["unit"] == "GiB-hour"  # the previous rate's unit
    granted = ocx("credit", "grant", "new-pi", "--org", "org-a", "--amount", "100",
                  "--project", october["project"], "--exclude", "gpu*",
                  "--from", "2026-01-01T00:00:00Z")
    assert granted.exit_code == 0, granted.output

    made = ocx("invoice", "generate", "--period", "2026-10", "--org", "org-a", "-o", "json")
    assert made.exit_code == 0, made.output
    invoice = json.loads(made.output)[0]
    assert (invoice["subtotal"], invoice["credits_total"], invoice["total"]) == (
        "154.31", "82.00", "72.31")
    shown = ocx("invoice", "show", invoice["id"])
    assert shown.exit_code == 0 and "gpu_a100_su" in shown.output and "72.00" in shown.output
    page = ocx("invoice", "show", invoice["id"], "--project", october["project"],
               token=world["pi_a"].token)
    assert page.exit_code == 0, page.output
    assert "servers:" in page.output and "pi@a.example.org" in page.output
    refused = ocx("invoice", "finalize", invoice["id"], token=world["admin_a"].token)
    assert refused.exit_code == 1 and "may not invoice finalize" in refused.output
    assert ocx("invoice", "finalize", invoice["id"]).exit_code == 0
    csv = ocx("invoice", "export", invoice["id"], "--format", "csv",
              token=world["admin_a"].token)
    assert csv.exit_code == 0 and csv.output.startswith("invoice_id,period,organization")
    mine = ocx("invoice", "export", invoice["id"], "--format", "csv", "--project",
               october["project"], token=world["pi_a"].token)
    assert mine.exit_code == 0, mine.output
    header, *rows = mine.output.splitlines()
    assert header == csv.output.splitlines()[0] and rows
    assert set(rows) < set(csv.output.splitlines())  # only their project's lines
    whole = ocx("invoice", "export", invoice["id"], "--format", "csv", token=world["pi_a"].token)
    assert whole.exit_code == 1  # the whole invoice is the organization's
    note = ocx("invoice", "credit-note", invoice["id"], "--reason", "slow disks",
               "--project", october["project"], "--amount", "5.25", "-o", "json")
    assert note.exit_code == 0 and json.loads(note.output)["total"] == "-5.25"
    listed = ocx("invoice", "list", "--org", "org-a")
    assert listed.exit_code == 0 and "credit_note" in listed.output
    report = ocx("report", "showback", "--period", "2026-10", "--by", "project")
    assert report.exit_code == 0 and "proj-a2" in report.output and "0.31" in report.output
    credits = ocx("credit", "list", "--org", "org-a")
    assert credits.exit_code == 0 and "82.00" in credits.output  # used by the final invoice
