"""A real radosgw for the object storage tests: a Ceph cluster with an admin user.

``rgw_server()`` starts ``ceph_cluster(radosgw=True)`` (tests/servers/ceph.py), makes
the RGW user OCX signs its admin ops requests as (caps on users, buckets, usage and
metadata) with ``radosgw-admin`` (the one step the admin API cannot do: it needs a
signer first), and creates one bucket so that RGW has made its pools before any test
times a request.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

from tests.servers.ceph import Ceph, ceph_cluster

ADMIN_UID = "ocx-admin"
ADMIN_CAPS = "users=*;buckets=*;usage=*;metadata=*"
REGION = "default"


@dataclass(frozen=True)
class RadosGateway:
    """A running radosgw and the admin key OCX uses on it."""

    ceph: Ceph
    access_key: str
    secret_key: str

    @property
    def url(self) -> str:
        """The S3 and admin ops endpoint."""
        return self.ceph.rgw_url

    def settings(self, **changes: Any) -> dict[str, Any]:
        """Settings of OCX's ``rgw`` project driver (and usage collector) for it."""
        return {"endpoint": self.url, "access_key": self.access_key,
                "secret_key": self.secret_key, "region": REGION, "timeout_s": 20, **changes}

    def admin(self, *argv: str) -> Any:
        """``radosgw-admin ARGV``, parsed (behind OCX's back)."""
        out = self.ceph.run("radosgw-admin", *argv)
        return json.loads(out) if out.strip() else None


OPEN_CLIENTS: list[Any] = []  # closed after each test (their sockets would warn)


def s3_client(endpoint: str, access_key: str, secret_key: str) -> Any:
    """A boto3 S3 client as a researcher makes one (path-style addressing)."""
    client = boto3.client("s3", endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id=access_key, aws_secret_access_key=secret_key,
                        config=Config(s3={"addressing_style": "path"},
                                      retries={"max_attempts": 1}))
    OPEN_CLIENTS.append(client)
    return client


def close_clients() -> None:
    """Close every client made so far."""
    while OPEN_CLIENTS:
        OPEN_CLIENTS.pop().close()


@contextmanager
def rgw_server() -> Iterator[RadosGateway]:
    """A fresh cluster with radosgw, its admin user, and its pools made."""
    with ceph_cluster(radosgw=True) as ceph:
        user = json.loads(ceph.run("radosgw-admin", "user", "create", f"--uid={ADMIN_UID}",
                                   "--display-name=OCX admin ops", f"--caps={ADMIN_CAPS}"))
        key = user["keys"][0]
        gateway = RadosGateway(ceph, key["access_key"], key["secret_key"])
        s3 = s3_client(gateway.url, gateway.access_key, gateway.secret_key)
        deadline = time.monotonic() + 60
        while True:  # the first bucket waits for RGW to make its pools
            try:
                s3.create_bucket(Bucket="warm-up")
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        s3.delete_bucket(Bucket="warm-up")
        close_clients()
        yield gateway
