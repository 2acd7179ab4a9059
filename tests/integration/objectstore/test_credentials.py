"""The issued files work as written: the real aws CLI (its own venv) with aws-config and
aws-credentials, and with s3.env; Debian's rclone with rclone.conf; the boto3 snippet run
as a script. The files are written
as ``ocx allocation credentials --dir`` writes them (mode 0600)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ocx.runtime import Runtime
from tests.integration.objectstore.conftest import active_allocation, client_of, issue
from tests.integration.openstack.conftest import API, write_files
from tests.servers.openstack import TESTBED, cached_venv
from tests.support.operations import run_due_operations
from tests.support.world import World

pytestmark = pytest.mark.ceph
REQUIREMENTS = Path(__file__).with_name("awscli-requirements.txt")


def _shell(script: str, directory: Path) -> subprocess.CompletedProcess[str]:
    """``script`` in a clean bash in ``directory`` with the aws CLI on PATH."""
    venv = cached_venv(TESTBED / "awscli-venv", REQUIREMENTS)
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(directory)}
    return subprocess.run(["bash", "-c", script], cwd=directory, env=env, text=True,
                          capture_output=True, timeout=180, check=False)


def test_the_aws_cli_and_boto3_work_with_the_issued_files(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        tmp_path: Path) -> None:
    allocation = active_allocation(client, world, runtime)
    issued = issue(client, world, runtime, "member_a", allocation["id"])
    profile = issued["hints"]["profile"]
    client_of(issued).create_bucket(Bucket="from-boto3")
    directory = write_files(issued, tmp_path / "creds")
    (directory / "hello.txt").write_text("hello from the aws CLI\n")

    done = _shell(f"""set -e
export AWS_CONFIG_FILE=$PWD/aws-config AWS_SHARED_CREDENTIALS_FILE=$PWD/aws-credentials
aws --profile {profile} s3 ls
aws --profile {profile} s3 mb s3://from-cli
aws --profile {profile} s3 cp hello.txt s3://from-cli/hello.txt
aws --profile {profile} s3 ls s3://from-cli/
""", directory)
    assert done.returncode == 0, done.stderr
    assert "from-boto3" in done.stdout and "hello.txt" in done.stdout

    env = _shell(". ./s3.env && aws s3 cp s3://from-cli/hello.txt -", directory)
    assert env.returncode == 0, env.stderr
    assert env.stdout == "hello from the aws CLI\n"

    script = subprocess.run([sys.executable, str(directory / "s3_client.py")], text=True,
                            capture_output=True, timeout=60, check=False)
    assert script.returncode == 0, script.stderr
    assert script.stdout.split() == ["from-boto3", "from-cli"]
    # rclone (Debian's) with the issued rclone.conf as it is, in a clean environment (no
    # AWS_* variables of this machine): list, copy up, read back with boto3.
    rclone = ["rclone", "--config", str(directory / "rclone.conf")]
    clean = {"PATH": "/usr/bin:/bin", "HOME": str(directory)}
    listed = subprocess.run([*rclone, "lsf", f"{profile}:from-cli"], text=True, env=clean,
                            capture_output=True, timeout=60, check=False)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == ["hello.txt"]
    copied = subprocess.run([*rclone, "copyto", str(directory / "hello.txt"),
                             f"{profile}:from-boto3/by-rclone.txt"], text=True,
                            env=clean, capture_output=True, timeout=60, check=False)
    assert copied.returncode == 0, copied.stderr
    back = client_of(issued).get_object(Bucket="from-boto3", Key="by-rclone.txt")
    assert back["Body"].read() == b"hello from the aws CLI\n"


def test_the_swift_client_works_with_swift_env_until_the_member_leaves(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        tmp_path: Path) -> None:
    allocation = active_allocation(client, world, runtime)
    issued = issue(client, world, runtime, "member_a", allocation["id"])
    directory = write_files(issued, tmp_path / "creds")
    (directory / "hello.txt").write_text("hello over Swift\n")
    venv = cached_venv(TESTBED / "swift-venv", Path(__file__).with_name(
        "swift-requirements.txt"))

    def swift(script: str) -> subprocess.CompletedProcess[str]:
        env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(directory)}
        return subprocess.run(["bash", "-c", f". ./swift.env && {script}"], cwd=directory,
                              env=env, text=True, capture_output=True, timeout=120,
                              check=False)

    done = swift("swift upload from-swift hello.txt && swift list && swift list from-swift")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["hello.txt", "from-swift", "hello.txt"]
    # The same project's data, seen over S3 with the member's S3 key.
    body = client_of(issued).get_object(Bucket="from-swift", Key="hello.txt")["Body"].read()
    assert body == b"hello over Swift\n"

    email = world["member_a"].email
    removed = client.delete(f"{API}/projects/org-a:proj-a/members/{email}",
                            headers=world["pi_a"].headers)
    assert removed.status_code == 204
    run_due_operations(runtime)
    gone = swift("swift list")
    assert gone.returncode != 0 and "Auth GET failed" in gone.stderr, gone
    assert "403 Forbidden" in gone.stderr  # radosgw refuses the deleted subuser's key
