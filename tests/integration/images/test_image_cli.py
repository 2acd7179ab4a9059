"""``ocx image`` against the real app over HTTP: an owner adds a golden image, a project
clones it, and removal waits for what depends on it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ocx.runtime import Runtime
from tests.integration.baremetal.support import Lab
from tests.integration.cli.conftest import Run, config_file, ocx, server_url
from tests.integration.images.backend_lab import MIB, image_settings, raw_image
from tests.support.world import World

pytestmark = pytest.mark.images
settings = image_settings
__all__ = ["config_file", "ocx", "server_url"]  # fixtures of the CLI tests, used here


@pytest.fixture
def lab(client: TestClient, world: World, runtime: Runtime) -> Lab:
    """``drain`` runs the operations the commands journal (no workers run here)."""
    return Lab(client, world, runtime)


def _json(ocx: Run, *args: str) -> dict[str, object]:
    result = ocx(*args, "-o", "json")
    assert result.exit_code == 0, result.output
    found: dict[str, object] = json.loads(result.stdout)
    return found


def test_an_owner_adds_a_golden_image_and_a_project_clones_it(ocx: Run, lab: Lab,
                                                              tmp_path: Path) -> None:
    disk = raw_image(tmp_path / "debian.raw", 4, pattern=0x3C, data_mib=1)

    accepted = _json(ocx, "image", "upload", str(disk), "--name", "debian-12", "--public",
                     "--no-wait")
    lab.drain()
    golden = _json(ocx, "image", "show", "debian-12")
    clone = _json(ocx, "image", "clone", "debian-12", "lab-base", "--project",
                  "org-a:proj-a", "--no-wait")
    lab.drain()

    assert accepted["state"] == "uploading" and accepted["operation_id"]
    assert golden["state"] == "available" and golden["size_bytes"] == 4 * MIB
    assert golden["checksum_sha256"] == hashlib.sha256(disk.read_bytes()).hexdigest()
    listed = json.loads(ocx("image", "list", "-o", "json").stdout)
    assert sorted(i["name"] for i in listed) == ["debian-12", "lab-base"]
    assert _json(ocx, "image", "show", str(clone["id"]))["parent"] == "debian-12"
    refused = ocx("image", "rm", "debian-12", "--no-wait")
    assert refused.exit_code == 1 and "depend on it" in refused.output


def test_a_wrong_checksum_is_refused_and_nothing_is_listed(ocx: Run, tmp_path: Path) -> None:
    disk = raw_image(tmp_path / "disk.raw", 1, pattern=0x01)

    result = ocx("image", "upload", str(disk), "--name", "broken", "--project",
                 "org-a:proj-a", "--sha256", "ab" * 32)

    assert result.exit_code == 1 and "checksum mismatch" in result.output
    assert json.loads(ocx("image", "list", "-o", "json").stdout) == []
    assert ocx("image", "show", "broken").exit_code == 1
