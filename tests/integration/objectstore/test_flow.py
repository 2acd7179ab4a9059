"""An object storage allocation's life through OCX against the real radosgw: the RGW
user and its quotas, members' S3 keys working with boto3 (buckets, objects, multipart),
a bucket past its quota, a member who leaves, drift repaired by the reconciler, expiry,
suspension and release."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from ocx.domain.allocations import reconciler
from ocx.domain.allocations.models import Allocation
from ocx.domain.audit.models import AuditEvent
from ocx.drivers.project.rgw import GIB, uid_of
from ocx.runtime import Runtime
from tests.integration.objectstore.conftest import (
    API,
    active_allocation,
    client_of,
    issue,
    make_market,
    member_ids,
    refused,
    show,
)
from tests.integration.objectstore.server import RadosGateway
from tests.support.operations import run_due_operations
from tests.support.world import World

pytestmark = pytest.mark.ceph
MEMBER = "member@a.example.org"
PART = 5 * 1024 * 1024  # S3's smallest part but the last


def _multipart(s3: Any, bucket: str, key: str, data: bytes) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    parts = []
    for number, start in enumerate(range(0, len(data), PART), start=1):
        etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=number,
                              Body=data[start:start + PART])["ETag"]
        parts.append({"ETag": etag, "PartNumber": number})
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload,
                                 MultipartUpload={"Parts": parts})


def _error(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return str(caught.value.response["Error"]["Code"])


def test_members_keys_work_up_to_the_quota_and_a_leaver_loses_them(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        rgw: RadosGateway) -> None:
    allocation = active_allocation(client, world, runtime, storage_gib=2, objects=50,
                                   buckets=2)
    uid = allocation["external_id"]
    assert uid == uid_of(allocation["id"])
    user = rgw.admin("user", "info", f"--uid={uid}")
    assert user["suspended"] == 0 and user["keys"] == [] and user["max_buckets"] == 2
    for kind in ("user_quota", "bucket_quota"):
        assert (user[kind]["enabled"], user[kind]["max_size"], user[kind]["max_objects"]) == (
            True, 2 * GIB, 50)
    people = member_ids(client, world)
    assert {s["id"] for s in user["subusers"]} == {f"{uid}:{i}" for i in people.values()}
    assert set(allocation["observed"]["users"]) == set(people.values())

    issued = issue(client, world, runtime, "member_a", allocation["id"])
    assert set(issued["files"]) == {"aws-credentials", "aws-config", "rclone.conf", "s3.env",
                                    "s3_client.py", "swift.env"}
    assert issued["hints"]["endpoint"] == rgw.url
    member = client_of(issued)
    member.create_bucket(Bucket="results")
    member.put_object(Bucket="results", Key="hello.txt", Body=b"hello, object storage")
    assert member.get_object(Bucket="results", Key="hello.txt")["Body"].read() == (
        b"hello, object storage")
    data = bytes(range(256)) * (PART // 256) + b"tail"
    _multipart(member, "results", "big.bin", data)
    assert member.get_object(Bucket="results", Key="big.bin")["Body"].read() == data
    member.upload_fileobj(io.BytesIO(b"3"), "results", "three")
    member.create_bucket(Bucket="second")
    assert _error(member.create_bucket, Bucket="third") == "TooManyBuckets"

    pi = client_of(issue(client, world, runtime, "pi_a", allocation["id"]))
    removed = client.delete(f"{API}/projects/org-a:proj-a/members/{MEMBER}",
                            headers=world["pi_a"].headers)
    assert removed.status_code == 204
    run_due_operations(runtime)
    assert refused(member) == "InvalidAccessKeyId"
    # The project's data stays with the project: the PI still reads what the leaver wrote.
    assert pi.get_object(Bucket="results", Key="hello.txt")["Body"].read().startswith(b"hello")
    left = rgw.admin("user", "info", f"--uid={uid}")
    assert f"{uid}:{people[MEMBER]}" not in {s["id"] for s in left["subusers"]}
    assert {k["user"] for k in left["keys"]} == {f"{uid}:{people['pi@a.example.org']}"}
    observed = show(client, world, allocation["id"])["observed"]
    assert observed["users"] == sorted(i for e, i in people.items() if e != MEMBER)
    assert observed["usage"]["objects"] == 3 and observed["usage"]["buckets"] == 2


def test_a_bucket_past_its_quota_answers_quota_exceeded(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any]) -> None:
    allocation = active_allocation(client, world, runtime, objects=3)
    member = client_of(issue(client, world, runtime, "member_a", allocation["id"]))
    member.create_bucket(Bucket="limited")
    for number in range(3):
        member.put_object(Bucket="limited", Key=f"object-{number}", Body=b"x")
    # The per-bucket quota (the allocation's limits) is exact: a fourth object is refused.
    assert _error(member.put_object, Bucket="limited", Key="one-too-many", Body=b"x") == (
        "QuotaExceeded")
    member.delete_object(Bucket="limited", Key="object-0")
    member.put_object(Bucket="limited", Key="one-too-many", Body=b"x")


def test_quota_and_suspension_changed_behind_ocx_are_found_and_repaired(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        rgw: RadosGateway) -> None:
    allocation = active_allocation(client, world, runtime, storage_gib=3, objects=100)
    uid = allocation["external_id"]
    rgw.admin("quota", "set", f"--uid={uid}", "--quota-scope=user", "--max-objects=999")
    # Only the per-bucket quota: the user quota still says 3 GiB.
    rgw.admin("quota", "set", f"--uid={uid}", "--quota-scope=bucket", f"--max-size={GIB}")
    rgw.admin("user", "suspend", f"--uid={uid}")
    with runtime.sessions.begin() as session:
        assert reconciler.schedule_reconcile(session) == 1
    run_due_operations(runtime)
    user = rgw.admin("user", "info", f"--uid={uid}")
    for scope in ("user_quota", "bucket_quota"):
        assert (user[scope]["max_objects"], user[scope]["max_size"]) == (100, 3 * GIB), scope
    assert user["suspended"] == 0
    with runtime.sessions() as session:
        found = session.scalar(select(AuditEvent).where(
            AuditEvent.action == "allocation.drift_found"))
    assert found is not None and found.target_id == allocation["id"]
    # Each had its user and bucket quotas disagree: no one limit.
    assert "quota objects: provider has None, OCX wants 100" in found.changes["differences"]
    assert "quota storage_gib: provider has None, OCX wants 3" in found.changes["differences"]
    assert "enabled: provider has False, OCX wants True" in found.changes["differences"]


def test_expiry_suspends_and_release_deletes_the_user_and_its_empty_buckets(
        client: TestClient, world: World, runtime: Runtime, market: dict[str, Any],
        rgw: RadosGateway) -> None:
    allocation = active_allocation(client, world, runtime)
    uid = allocation["external_id"]
    member = client_of(issue(client, world, runtime, "member_a", allocation["id"]))
    member.create_bucket(Bucket="emptied")
    member.put_object(Bucket="emptied", Key="k", Body=b"v")
    member.delete_object(Bucket="emptied", Key="k")
    with runtime.sessions.begin() as session:
        session.execute(update(Allocation).values(ends_at=datetime.now(UTC) - timedelta(1)))
        assert reconciler.expire_allocations(session) == 1
    run_due_operations(runtime)
    assert show(client, world, allocation["id"])["state"] == "expired"
    suspended = rgw.admin("user", "info", f"--uid={uid}")
    assert suspended["suspended"] == 1
    assert suspended["keys"] == [] and suspended["swift_keys"] == []  # S3 and Swift alike
    assert refused(member) == "InvalidAccessKeyId"  # suspended, and the keys deleted

    released = client.post(f"{API}/allocations/{allocation['id']}/release",
                           headers=world["pi_a"].headers)
    assert released.status_code == 202, released.text
    run_due_operations(runtime)
    assert show(client, world, allocation["id"])["state"] == "released"
    assert uid not in rgw.admin("user", "list")
    assert "emptied" not in rgw.admin("bucket", "list")


def test_release_keeps_data_unless_the_offering_says_purge(
        client: TestClient, world: World, runtime: Runtime, rgw: RadosGateway) -> None:
    make_market(client, world, rgw)
    allocation = active_allocation(client, world, runtime)
    uid, url = allocation["external_id"], f"{API}/allocations/{allocation['id']}"
    member = client_of(issue(client, world, runtime, "member_a", allocation["id"]))
    member.create_bucket(Bucket="precious")
    member.put_object(Bucket="precious", Key="k", Body=b"v")

    assert client.post(f"{url}/release", headers=world["pi_a"].headers).status_code == 202
    run_due_operations(runtime)
    kept = show(client, world, allocation["id"])
    assert kept["state"] == "releasing" and "precious" in kept["status_message"]
    user = rgw.admin("user", "info", f"--uid={uid}")
    assert user["suspended"] == 1 and user["keys"] == [] and user["subusers"] == []
    assert "precious" in rgw.admin("bucket", "list")

    settings = {"driver_settings": rgw.settings(purge_buckets_on_release=True)}
    changed = client.patch(f"{API}/offerings/cloudb:s3", json=settings,
                           headers=world["operator"].headers)
    assert changed.status_code == 200, changed.text
    retried = _retry_release(client, world, runtime, allocation["id"])
    assert retried["state"] == "released"
    assert uid not in rgw.admin("user", "list")
    assert "precious" not in rgw.admin("bucket", "list")


def _retry_release(client: TestClient, world: World, runtime: Runtime,
                   allocation_id: str) -> dict[str, Any]:
    from ocx.domain.operations.models import Operation

    with runtime.sessions() as session:
        op_id = session.scalar(select(Operation.id).where(
            Operation.target_id == allocation_id, Operation.kind == "allocation.release"))
    retried = client.post(f"{API}/operations/{op_id}/retry", headers=world["operator"].headers)
    assert retried.status_code in (200, 202), retried.text
    run_due_operations(runtime)
    return show(client, world, allocation_id)
