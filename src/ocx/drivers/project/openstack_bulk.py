"""``describe`` of many Keystone projects in a few calls: the reconciler's read path.

``OpenStackProject.describe`` costs about six round-trips per project. Most of them can
be answered for every project at once:

- Keystone: the projects tagged ``ocx``, the users named ``ocx-*`` and every role
  assignment, one listing each;
- Neutron: ``GET /v2.0/quotas`` lists the limits of every project that has other than
  default ones, ``.../default`` the defaults, and the usage is counted from one listing
  per resource (``fields=project_id``), which is what Neutron's own quota details count;
- Nova and Cinder have no listing of quotas: per project, from a bounded thread pool,
  one ``GET /limits?tenant_id=`` answers Nova's limits and usage (counted by the same
  call as ``os-quota-sets/{id}/detail``, without the Keystone round trip with which
  the quota-set API checks the project), and Cinder's quota set is read without its
  usage, which is counted from one listing of every volume and snapshot
  (``all_tenants``, a page per thousand, whatever few projects are asked about).

The answer is what ``describe`` would answer for each project (tested side by side on
the real services, with servers, volumes and snapshots in use). The admin connection is
shared by the pool's threads: keystoneauth refreshes its token under a lock and
requests' connection pool is thread-safe, but openstacksdk builds a service's proxy
(and negotiates its version) on first use without a lock, so every proxy is built and
used once before the threads start. The pool stays below requests' ten kept-alive
connections per endpoint.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from openstack import exceptions as sdk_exceptions
from openstack.connection import Connection

from ocx.drivers.project import openstack_quota as quotas
from ocx.drivers.project.base import ProjectState
from ocx.drivers.project.openstack import OCX_TAG, USER_PREFIX, OpenStackProject

CONCURRENCY = 8  # Nova/Cinder reads in flight (requests keeps 10 connections per host)
# OCX component -> (Neutron's quota key, the listing that counts its usage)
NEUTRON: Mapping[str, tuple[str, str]] = {
    "floating_ips": ("floatingip", "floatingips"),
    "networks": ("network", "networks"),
    "ports": ("port", "ports"),
    "routers": ("router", "routers"),
    "security_groups": ("security_group", "security-groups"),
}

# Nova's quota key -> (its limit, its usage) in ``GET /limits``
NOVA_LIMITS: Mapping[str, tuple[str, str]] = {
    "cores": ("maxTotalCores", "totalCoresUsed"),
    "ram": ("maxTotalRAMSize", "totalRAMUsed"),
    "instances": ("maxTotalInstances", "totalInstancesUsed"),
}


class Truncated(Exception):
    """Keystone cut a listing short (``list_limit``): ask project by project instead."""


def _get(proxy: Any, path: str, **params: Any) -> dict[str, Any]:
    response = proxy.get(path, params=params)
    sdk_exceptions.raise_from_response(response)
    body: dict[str, Any] = response.json()
    return body


def _listing(proxy: Any, path: str, key: str, **params: Any) -> Iterable[dict[str, Any]]:
    """Every item of a listing, following its next links (Keystone's ``links``, the
    others' ``<key>_links``, which keep the query)."""
    body = _get(proxy, path, **params)
    while True:
        if body.get("truncated"):
            raise Truncated(path)
        yield from body[key]
        links = body.get(f"{key}_links") or []
        following = [link["href"] for link in links if link.get("rel") == "next"]
        following += [body["links"]["next"]] if (body.get("links") or {}).get("next") else []
        if not following:
            return
        body = _get(proxy, following[0])


def describe_many(driver: OpenStackProject, external_ids: Sequence[str]
                  ) -> dict[str, ProjectState]:
    """What ``driver.describe`` says of each project that exists (missing ones left out).

    The per-project Nova and Cinder reads start first and run in the pool while this
    thread reads the listings (Keystone's, Neutron's, Cinder's): a project that turns
    out not to exist costs two wasted reads, and the listings cost no extra time.
    """
    wanted = list(dict.fromkeys(external_ids))
    if not wanted:
        return {}
    conn = driver.conn
    read = _QuotaSets(conn)
    first = read(wanted[0])  # builds each proxy and negotiates its version in this thread
    try:
        with ThreadPoolExecutor(max_workers=CONCURRENCY, thread_name_prefix="ocx-quota"
                                ) as pool:
            later = pool.map(read, wanted[1:])
            try:
                enabled, members, listed = _listed(conn, wanted, read.cinder)
            except BaseException:
                pool.shutdown(cancel_futures=True)  # the reads left are not wanted now
                raise
            quota_sets = dict(zip(wanted, [first, *later], strict=True))
    except Truncated:
        return _one_by_one(driver, wanted)
    return {pid: ProjectState(external_id=pid, enabled=on, users=frozenset(members.get(pid, ())),
                              quota={**listed[pid][0], **quota_sets[pid][0]},
                              usage={**listed[pid][1], **quota_sets[pid][1]})
            for pid, on in enabled.items()}


def _listed(conn: Connection, wanted: list[str], cinder: bool
            ) -> tuple[dict[str, bool], dict[str, set[str]], dict[str, tuple[Limits, Limits]]]:
    """What the listings say: (project id -> enabled, -> OCX members, -> (Neutron's limits,
    Neutron's and Cinder's usage)) of the projects that exist."""
    enabled, members = _keystone(conn, wanted)
    found = [pid for pid in wanted if pid in enabled]
    neutron = _neutron(conn, found) if conn.has_service("network") else {}
    volumes = _cinder_usage(conn, found) if cinder else {}
    listed = {}
    for pid in found:
        limits, usage = neutron.get(pid, ({}, {}))
        listed[pid] = (limits, {**usage, **volumes.get(pid, {})})
    return {pid: enabled[pid] for pid in found}, members, listed


def _one_by_one(driver: OpenStackProject, wanted: list[str]) -> dict[str, ProjectState]:
    found = {pid: _project_enabled(driver.conn, pid) for pid in wanted}
    return {pid: driver.describe(pid) for pid, enabled in found.items() if enabled is not None}


def _project_enabled(conn: Connection, project_id: str) -> bool | None:
    """Whether one project is enabled; None if Keystone has no such project."""
    response = conn.identity.get(f"/projects/{project_id}")
    if response.status_code == 404:
        return None
    sdk_exceptions.raise_from_response(response)
    return bool(response.json()["project"]["enabled"])


def _keystone(conn: Connection, wanted: list[str]) -> tuple[dict[str, bool],
                                                            dict[str, set[str]]]:
    """(project id -> enabled, project id -> OCX user ids with a role on it)."""
    identity, asked = conn.identity, set(wanted)
    enabled = {p["id"]: bool(p["enabled"]) for p in _listing(identity, "/projects", "projects",
                                                             tags=OCX_TAG) if p["id"] in asked}
    for pid in asked - set(enabled):  # not tagged (made by hand?) or gone: ask each
        state = _project_enabled(conn, pid)
        if state is not None:
            enabled[pid] = state
    names = {u["id"]: u["name"] for u in _listing(identity, "/users", "users",
                                                  name__startswith=USER_PREFIX)}
    members: dict[str, set[str]] = {}
    for assignment in _listing(identity, "/role_assignments", "role_assignments"):
        pid = assignment.get("scope", {}).get("project", {}).get("id")
        name = names.get((assignment.get("user") or {}).get("id", ""), "")
        if pid in enabled and name.startswith(USER_PREFIX):
            members.setdefault(pid, set()).add(name.removeprefix(USER_PREFIX))
    return enabled, members


def _neutron(conn: Connection, found: list[str]) -> dict[str, tuple[dict[str, int],
                                                                    dict[str, int]]]:
    """Neutron limits and usage of every project, from a handful of listings."""
    network, asked = conn.network, set(found)
    if not found:
        return {}
    defaults = _get(network, f"/quotas/{found[0]}/default")["quota"]
    overrides = {q["project_id"]: q for q in _listing(network, "/quotas", "quotas")
                 if q.get("project_id") in asked}
    counted: dict[str, Counter[str]] = {}
    for component, (key, path) in NEUTRON.items():
        if key in defaults:
            counted[component] = Counter(
                str(item.get("project_id")) for item in _listing(
                    network, f"/{path}", path.replace("-", "_"), fields="project_id"))
    answer = {}
    for pid in found:
        limits = {**defaults, **overrides.get(pid, {})}
        answer[pid] = ({c: int(limits[key]) if key in defaults else -1
                        for c, (key, _) in NEUTRON.items()},
                       {c: counted[c][pid] if c in counted else 0 for c in NEUTRON})
    return answer


Limits = dict[str, int]  # OCX component -> limit, or -> in use


def _nova(conn: Connection, project_id: str) -> tuple[Limits, Limits]:
    """One project's Nova limits and usage, from ``GET /limits?tenant_id=``: the quota
    set with usage that ``/os-quota-sets/{id}/detail`` shows (the same Nova call counts
    it), without the Keystone round trip the quota-set API makes to check the project."""
    absolute = _get(conn.compute, "/limits", tenant_id=project_id)["limits"]["absolute"]
    limits, usage = {}, {}
    for component, (service, key) in quotas.COMPONENTS.items():
        if service == "compute" and NOVA_LIMITS[key][0] in absolute:
            limits[component] = int(absolute[NOVA_LIMITS[key][0]])
            usage[component] = int(absolute.get(NOVA_LIMITS[key][1], 0))
    return limits, usage


def _cinder_limits(conn: Connection, project_id: str) -> Limits:
    """One project's Cinder limits, from its quota set without the usage (which Cinder
    reads from its books on every call): the usage comes from ``_cinder_usage``."""
    body = _get(conn.block_storage, f"/os-quota-sets/{project_id}").get("quota_set", {})
    return {component: int(body[key]) for component, (service, key)
            in quotas.COMPONENTS.items() if service == "block-storage" and key in body}


def _cinder_usage(conn: Connection, found: list[str]) -> dict[str, Limits]:
    """Volumes, snapshots and storage of every project, from one listing of each: what
    Cinder's quota usage holds (a snapshot's size counts towards the gigabytes too, as
    it does unless ``no_snapshot_gb_quota``). A migration's target volume is not
    counted (Cinder makes it without quota); a backup's temporary clone is, while the
    backup runs: usage is observed, not compared, so such moments are harmless."""
    usage = {pid: {"volumes": 0, "snapshots": 0, "gigabytes": 0} for pid in found}
    listings = (("volumes", "os-vol-tenant-attr:tenant_id"),
                ("snapshots", "os-extended-snapshot-attributes:project_id"))
    for key, owner in listings:
        for item in _listing(conn.block_storage, f"/{key}/detail", key, all_tenants="1"):
            used = usage.get(str(item.get(owner)))
            migrating = str(item.get("os-vol-mig-status-attr:migstat") or "")
            if used is not None and not migrating.startswith("target:"):
                used[key] += 1
                used["gigabytes"] += int(item.get("size") or 0)
    return {pid: {component: counted[key] for component, (service, key)
                  in quotas.COMPONENTS.items() if service == "block-storage"}
            for pid, counted in usage.items()}


class _QuotaSets:
    """One project's Nova limits and usage and Cinder limits (its usage is listed)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.nova = conn.has_service("compute")
        self.cinder = conn.has_service("block-storage")

    def __call__(self, project_id: str) -> tuple[Limits, Limits]:
        limits, usage = _nova(self.conn, project_id) if self.nova else ({}, {})
        if self.cinder:
            limits |= _cinder_limits(self.conn, project_id)
        return limits, usage
