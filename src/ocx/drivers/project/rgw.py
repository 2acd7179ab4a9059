"""An OCX allocation as a Ceph RADOS Gateway user, with quotas; members as subusers.

What the driver creates, through the RGW admin ops API (``rgw_admin``), and nothing else:

- one RGW user per allocation, uid ``ocx-<allocation id>``, its display name
  ``<allocation name> [ocx-allocation <allocation id>]`` (the tag that tells OCX made it);
  it owns every bucket the project makes and carries the allocation's quota;
- one **subuser** per member, ``<uid>:<OCX user id>`` with full access, holding that
  member's own S3 key pair (never the parent user's: it has no keys at all).

Why subusers and not one RGW user per member: whatever a member creates belongs to the
project's user, so one user quota and one usage log cover the whole allocation, and the
project's buckets stay with the project when a member leaves (their keys go, the data
does not). Separate users would each own their buckets, split the quota, and strand
data under the account of someone who left.

Quotas: ``storage_gib`` and ``objects`` are set as the user quota (the total over all
buckets, enforced from RGW's cached stats: it can overshoot by a little) and, with the
same limits, as the user's per-bucket quota (exact: no single bucket can go past the
allocation's limit). ``describe`` reports a limit only where both scopes agree, so a
change to either scope is drift, and ``set_quota`` rewrites both. ``buckets`` is the
user's ``max_buckets``. Suspension is RGW's own (``suspended``: every key of the user
and its subusers is refused); disabling also deletes the members' keys, so enabling
again needs new credentials, as on OpenStack.

Release deletes the subusers and their keys, the project's empty buckets and the user.
Buckets that still hold objects are deleted with their objects only if the offering's
``purge_buckets_on_release`` setting says so (the provider's choice: data is never
destroyed by default); otherwise the user is left suspended and keyless, and the release
fails naming the buckets, for the provider to empty or keep them.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import Field, SecretStr

from ocx.drivers.project.base import (
    Credentials,
    ProjectDriver,
    ProjectMissing,
    ProjectSpec,
    ProjectState,
    ProjectUser,
)
from ocx.drivers.project.rgw_admin import RgwAdmin, RgwNotFound
from ocx.drivers.project.rgw_files import credential_files
from ocx.errors import PermanentDriverError

GIB = 1 << 30
COMPONENTS = frozenset({"storage_gib", "objects", "buckets"})
UID_PREFIX = "ocx-"
_TAG = re.compile(r"^(?P<name>.*) \[ocx-allocation (?P<allocation>[^\]]+)\]$")


def uid_of(allocation_id: str) -> str:
    """The RGW uid of an allocation's user."""
    return f"{UID_PREFIX}{allocation_id}"


def display_name(spec: ProjectSpec) -> str:
    """The user's display name: readable, and tagged with the allocation id."""
    return f"{spec.name} [ocx-allocation {spec.allocation_id}]"


def subuser_of(uid: str, user_id: str) -> str:
    """The full id of a member's subuser."""
    return f"{uid}:{user_id}"


def bucket_size(bucket: Mapping[str, Any]) -> tuple[int, int]:
    """A bucket's bytes and objects, from ``GET /admin/bucket?stats=true``."""
    usage = (bucket.get("usage") or {}).values()
    return (sum(int(u.get("size", 0)) for u in usage),
            sum(int(u.get("num_objects", 0)) for u in usage))


def _quota_limits(quota: Mapping[str, Any]) -> dict[str, int]:
    """RGW's quota block (user_quota) as OCX components (-1: unlimited)."""
    if not quota.get("enabled"):
        return {"storage_gib": -1, "objects": -1}
    size, objects = int(quota.get("max_size", -1)), int(quota.get("max_objects", -1))
    return {"storage_gib": size // GIB if size >= 0 else -1,
            "objects": objects if objects >= 0 else -1}


def _effective_limits(user: Mapping[str, Any]) -> dict[str, int]:
    """The storage and objects limits, where the user and per-bucket quotas agree.

    OCX sets both scopes to the same limits; a component whose scopes disagree (one was
    changed behind OCX's back) has no one limit and is left out, which the reconciler
    reports as drift ("provider has None") and repairs by setting both scopes again.
    """
    user_scope = _quota_limits(user.get("user_quota") or {})
    bucket_scope = _quota_limits(user.get("bucket_quota") or {})
    return {name: limit for name, limit in user_scope.items()
            if bucket_scope[name] == limit}


def _buckets_limit(max_buckets: int) -> int:
    # RGW: 0 is unlimited and a negative number forbids creating buckets.
    return -1 if max_buckets == 0 else max(max_buckets, 0)


def _max_buckets(limit: int) -> int:
    return 0 if limit < 0 else (limit or -1)


class RgwProject(ProjectDriver):
    """RGW users with user and bucket quotas; members' S3 keys on subusers."""

    components: ClassVar[frozenset[str]] = COMPONENTS

    class Settings(ProjectDriver.Settings):
        """Where radosgw is and the admin key OCX signs its admin ops requests with.

        The admin key's user needs the caps ``users=*;buckets=*;usage=*;metadata=*``.
        """

        secret_destination: ClassVar[frozenset[str] | None] = frozenset(
            {"endpoint", "verify_tls"})

        endpoint: str  # the admin ops API, e.g. https://rgw.internal:8080
        access_key: str
        secret_key: SecretStr
        region: str = "default"  # the zonegroup's api name; what S3 clients are told
        public_endpoint: str = ""  # what researchers' S3 clients use (default: endpoint)
        purge_buckets_on_release: bool = False  # delete buckets with their objects
        verify_tls: bool = True
        timeout_s: float = Field(default=30.0, gt=0)

    settings: Settings

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._lock = threading.Lock()
        self._admin: RgwAdmin | None = None

    @property
    def admin(self) -> RgwAdmin:
        """The admin ops client, made once."""
        with self._lock:
            if self._admin is None:
                s = self.settings
                self._admin = RgwAdmin(s.endpoint, s.access_key, s.secret_key.get_secret_value(),
                                       region=s.region, verify_tls=s.verify_tls,
                                       timeout_s=s.timeout_s)
            return self._admin

    @property
    def s3_endpoint(self) -> str:
        """The S3 endpoint researchers are given."""
        return (self.settings.public_endpoint or self.settings.endpoint).rstrip("/")

    # -- users ---------------------------------------------------------------------

    def _user(self, uid: str) -> dict[str, Any]:
        """The RGW user OCX made (its tagged display name checked).

        Raises:
            ProjectMissing: no such user, or one OCX did not make.
        """
        try:
            user: dict[str, Any] = self.admin.call("GET", "user", {"uid": uid})
        except RgwNotFound as exc:
            raise ProjectMissing(f"RGW user {uid} does not exist") from exc
        if not _TAG.match(str(user.get("display_name", ""))):
            raise ProjectMissing(f"RGW user {uid} was not made by OCX")
        return user

    def ensure_project(self, spec: ProjectSpec) -> str:
        """Create the allocation's RGW user (no keys of its own) unless it exists."""
        uid = uid_of(spec.allocation_id)
        try:
            existing = self.admin.call("GET", "user", {"uid": uid})
        except RgwNotFound:
            existing = None
        if existing is not None:
            match = _TAG.match(str(existing.get("display_name", "")))
            if match is None or match["allocation"] != spec.allocation_id:
                raise PermanentDriverError(f"an RGW user {uid} already exists and OCX did "
                                           "not create it")
            return uid
        self.admin.call("PUT", "user", {"uid": uid, "display-name": display_name(spec),
                                        "generate-key": False})
        return uid

    def describe(self, external_id: str) -> ProjectState:
        """Suspension, quota, usage (bytes, objects, buckets) and members' subusers."""
        user = self._user(external_id)
        buckets = self.admin.call("GET", "bucket", {"uid": external_id, "stats": True}) or []
        return self._state(external_id, user, buckets)

    @staticmethod
    def _state(uid: str, user: Mapping[str, Any], buckets: list[dict[str, Any]]
               ) -> ProjectState:
        # The buckets' own stats (from their index) are exact; the user's are cached.
        sizes = [bucket_size(bucket) for bucket in buckets]
        size, objects = sum(b for b, _ in sizes), sum(n for _, n in sizes)
        quota = {**_effective_limits(user),
                 "buckets": _buckets_limit(int(user.get("max_buckets", 0)))}
        usage = {"storage_gib": -(-size // GIB), "objects": objects, "buckets": len(buckets)}
        members = frozenset(str(sub["id"]).partition(":")[2] for sub in user.get("subusers", []))
        return ProjectState(external_id=uid, enabled=not int(user.get("suspended", 0)),
                            quota=quota, usage=usage, users=members)

    def set_quota(self, external_id: str, quota: Mapping[str, int]) -> None:
        """Set the user and per-bucket quotas (storage, objects) and ``max_buckets``."""
        unknown = set(quota) - COMPONENTS
        if unknown:
            raise PermanentDriverError(f"RGW has no quota for {', '.join(sorted(unknown))}")
        user = self._user(external_id)
        if "buckets" in quota:
            self.admin.call("POST", "user", {"uid": external_id,
                                             "max-buckets": _max_buckets(quota["buckets"])})
        if {"storage_gib", "objects"} & set(quota):
            current = _quota_limits(user.get("user_quota") or {})
            limits = {**current, **{k: v for k, v in quota.items() if k in current}}
            size = limits["storage_gib"] * GIB if limits["storage_gib"] >= 0 else -1
            for kind in ("user", "bucket"):
                self.admin.call("PUT", "user", {
                    "quota": "", "uid": external_id, "quota-type": kind, "max-size": size,
                    "max-objects": limits["objects"], "enabled": True})

    def set_enabled(self, external_id: str, enabled: bool) -> None:
        """Lift or set RGW's suspension; suspending also deletes the members' keys."""
        user = self._user(external_id)
        self.admin.call("POST", "user", {"uid": external_id, "suspended": not enabled})
        if not enabled:
            for key in user.get("keys", []):
                self._delete_key(external_id, key)
            for sub in sorted({str(key["user"]) for key in user.get("swift_keys", [])}):
                with contextlib.suppress(RgwNotFound):
                    self.admin.call("DELETE", "user", {"key": "", "uid": external_id,
                                                       "subuser": sub, "key-type": "swift"})

    def delete_project(self, external_id: str) -> None:
        """Delete the subusers, the empty (or, if so set, all) buckets and the user."""
        try:
            user = self._user(external_id)
        except ProjectMissing:
            return
        for sub in user.get("subusers", []):
            self.admin.call("DELETE", "user", {"subuser": str(sub["id"]), "uid": external_id,
                                               "purge-keys": True})
        purge = self.settings.purge_buckets_on_release
        kept = []
        for bucket in self.admin.call("GET", "bucket", {"uid": external_id, "stats": True}):
            if bucket_size(bucket)[1] and not purge:
                kept.append(str(bucket["bucket"]))
                continue
            self.admin.call("DELETE", "bucket", {"bucket": bucket["bucket"],
                                                 "purge-objects": True})
        if kept:
            self.admin.call("POST", "user", {"uid": external_id, "suspended": True})
            raise PermanentDriverError(
                f"RGW user {external_id} still has buckets with objects "
                f"({', '.join(sorted(kept))}); it is suspended and keyless: empty them, or "
                "set purge_buckets_on_release on the offering, and release again")
        try:
            self.admin.call("DELETE", "user", {"uid": external_id, "purge-data": purge})
        except RgwNotFound:
            return

    # -- members -------------------------------------------------------------------

    def ensure_user(self, external_id: str, user: ProjectUser) -> None:
        """Create the member's subuser (full access, no keys until issued)."""
        info = self._user(external_id)
        sub = subuser_of(external_id, user.user_id)
        if any(s["id"] == sub for s in info.get("subusers", [])):
            return
        self.admin.call("PUT", "user", {"subuser": sub, "uid": external_id, "access": "full",
                                        "key-type": "s3", "generate-secret": False})
        # RGW gives a new subuser a key anyway: delete it (nobody was told its secret).
        self._delete_keys(external_id, self._user(external_id), sub)

    def remove_user(self, external_id: str, user: ProjectUser) -> None:
        """Delete the member's subuser and with it every key it had."""
        try:
            self.admin.call("DELETE", "user", {"subuser": subuser_of(external_id, user.user_id),
                                               "uid": external_id, "purge-keys": True})
        except RgwNotFound:
            return

    def _delete_key(self, uid: str, key: Mapping[str, Any]) -> None:
        owner = str(key["user"])
        params = {"key": "", "uid": uid, "access-key": str(key["access_key"]),
                  "key-type": "s3", "subuser": owner if ":" in owner else None}
        try:
            self.admin.call("DELETE", "user", params)
        except RgwNotFound:
            return

    def _delete_keys(self, uid: str, info: Mapping[str, Any], sub: str) -> None:
        """Every S3 and Swift key of subuser ``sub``."""
        for key in info.get("keys", []):
            if key["user"] == sub:
                self._delete_key(uid, key)
        if any(key["user"] == sub for key in info.get("swift_keys", [])):
            with contextlib.suppress(RgwNotFound):
                self.admin.call("DELETE", "user", {"key": "", "uid": uid, "subuser": sub,
                                                   "key-type": "swift"})

    def issue_credentials(self, external_id: str, user: ProjectUser) -> Credentials:
        """A new S3 key pair and Swift key of the member's subuser; earlier ones are deleted."""
        info = self._user(external_id)
        sub = subuser_of(external_id, user.user_id)
        if not any(s["id"] == sub for s in info.get("subusers", [])):
            raise PermanentDriverError(f"user {user.user_id} has no access to RGW user "
                                       f"{external_id}")
        self._delete_keys(external_id, info, sub)
        keys = self.admin.call("PUT", "user", {"key": "", "uid": external_id, "subuser": sub,
                                               "key-type": "s3", "generate-key": True})
        key = next(k for k in keys if k["user"] == sub)
        swift = self.admin.call("PUT", "user", {"key": "", "uid": external_id, "subuser": sub,
                                                "key-type": "swift", "generate-key": True})
        swift_key = str(next(k for k in swift if k["user"] == sub)["secret_key"])
        match = _TAG.match(str(info.get("display_name", "")))
        profile = match["name"] if match else external_id
        access, secret = str(key["access_key"]), str(key["secret_key"])
        files = credential_files(profile=profile, endpoint=self.s3_endpoint,
                                 region=self.settings.region, access_key=access,
                                 secret_key=secret, swift_user=sub, swift_key=swift_key)
        return Credentials(credential_id=access, files=files,
                           hints={"endpoint": self.s3_endpoint, "region": self.settings.region,
                                  "access_key": access, "profile": profile,
                                  "addressing_style": "path"})
