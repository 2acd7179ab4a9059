"""The PDF export: one page per project, readable text, the same totals as the lines."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.billing.support import API, ok
from tests.integration.cli.conftest import Run
from tests.support.world import World

pytestmark = pytest.mark.billing


def _pages(path: Path) -> list[str]:
    """The text of each page of a PDF (poppler's pdftotext; pages end with a form feed)."""
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True,
                          text=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines()
                     if line.startswith("Pages:")))
    found = text.split("\f")[:pages]
    assert len(found) == pages
    return found


def test_pdf_has_one_page_per_project(client: TestClient, world: World, tmp_path: Path,
                                      october: dict[str, Any]) -> None:
    made = ok(client.post(f"{API}/invoices", headers=world["operator"].headers,
                          json={"period": "2026-10", "organization": "org-a"}))
    answer = client.get(f"{API}/invoices/{made[0]['id']}/export?format=pdf",
                        headers=world["admin_a"].headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF-")
    path = tmp_path / "invoice.pdf"
    path.write_bytes(answer.content)
    pages = _pages(path)
    assert len(pages) == 2  # proj-a and proj-a2, by name
    first, second = pages
    assert "proj-a" in first and "Total: 154.00 USD" in first
    assert "pi@a.example.org" in first and "s1" in first and "v1" in first
    assert "Sponsoring organization" in first and "org-a" in first
    assert "proj-a2" in second and "Total: 0.31 USD" in second and "s1" not in second
    # another organization's admin does not even see the invoice
    refused = client.get(f"{API}/invoices/{made[0]['id']}/export?format=pdf",
                         headers=world["admin_b"].headers)
    assert refused.status_code == 404, refused.text


def test_cli_writes_the_pdf(ocx: Run, world: World, tmp_path: Path,
                            october: dict[str, Any]) -> None:
    made = ocx("invoice", "generate", "--period", "2026-10", "--org", "org-a", "-o", "json")
    assert made.exit_code == 0, made.output
    invoice = made.output.split('"id": "')[1].split('"')[0]
    out = tmp_path / "cli.pdf"
    written = ocx("invoice", "export", invoice, "--format", "pdf", "--out", str(out),
                  token=world["admin_a"].token)
    assert written.exit_code == 0, written.output
    assert "wrote" in written.output and len(_pages(out)) == 2
