"""``describe`` of many Keystone projects in a few calls: the reconciler's read path.

``OpenStackProject.describe`` costs about six round-trips per project. Most of them can
be answered for every project at once:

- Keystone: the projects tagged ``ocx``, the users named ``ocx-*`` and every role
  assignment, one listing each;
- Neutron: ``GET /v2.0/quotas`` lists the limits of every project that has other than
  default ones, ``.../default`` the defaults, and the usage is counted from one listing
  per resource (``fields=project_id``), which is what Neutron's own quota details count;
- Nova and Cinder have no such listing: their quota sets (with usage) are read per
  project, the same URLs as ``describe`` reads, from a bounded thread pool.

The answer is what ``describe`` would answer for each project (tested side by side on
the real services). The admin connection is shared by the pool's threads: keystoneauth
refreshes its token under a lock and requests' connection pool is thread-safe, but
openstacksdk builds a service's proxy (and negotiates its version) on first use without
a lock, so every proxy is built and used once before the threads start. The pool stays
below requests' ten kept-alive connections per endpoint.
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


class Truncated(Exception):
    """Keystone cut a listing short (``list_limit``): ask project by project instead."""


def _get(proxy: Any, path: str, **params: Any) -> dict[str, Any]:
    response = proxy.get(path, params=params)
    sdk_exceptions.raise_from_response(response)
    body: dict[str, Any] = response.json()
    return body


def _listing(proxy: Any, path: str, key: str, **params: Any) -> Iterable[dict[str, Any]]:
    """Every item of a listing, following Keystone's and Neutron's next links."""
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
    """What ``driver.describe`` says of each project that exists (missing ones left out)."""
    wanted = list(dict.fromkeys(external_ids))
    if not wanted:
        return {}
    conn = driver.conn
    try:
        enabled, members = _keystone(conn, wanted)
    except Truncated:
        return _one_by_one(driver, wanted)
    found = [pid for pid in wanted if pid in enabled]
    limits: dict[str, dict[str, int]] = {pid: {} for pid in found}
    usage: dict[str, dict[str, int]] = {pid: {} for pid in found}
    if conn.has_service("network"):
        for pid, (limit, used) in _neutron(conn, found).items():
            limits[pid].update(limit)
            usage[pid].update(used)
    for pid, (limit, used) in _nova_cinder(conn, found).items():
        limits[pid].update(limit)
        usage[pid].update(used)
    return {pid: ProjectState(external_id=pid, enabled=enabled[pid], quota=limits[pid],
                              usage=usage[pid], users=frozenset(members.get(pid, ())))
            for pid in found}


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


# service -> (quota-set path with usage, query); the paths ``openstack_quota.read`` uses
_QUOTA_SETS: Mapping[str, tuple[str, dict[str, str]]] = {
    "compute": ("/os-quota-sets/{}/detail", {}),
    "block-storage": ("/os-quota-sets/{}", {"usage": "True"}),
}


def _quota_set(conn: Connection, service: str, project_id: str
               ) -> tuple[dict[str, int], dict[str, int]]:
    """(limits, usage) of one project on Nova or Cinder, as ``openstack_quota.read`` has
    them (openstacksdk's QuotaSet splits ``{"limit", "in_use"}`` the same way), without
    building SDK resources: on a busy 2-core machine that halves the client's CPU."""
    path, query = _QUOTA_SETS[service]
    proxy = conn.compute if service == "compute" else conn.block_storage
    body = _get(proxy, path.format(project_id), **query).get("quota_set", {})
    limits: dict[str, int] = {}
    usage: dict[str, int] = {}
    for component, (svc, key) in quotas.COMPONENTS.items():
        if svc != service:
            continue
        value = body.get(key)
        limit = value.get("limit") if isinstance(value, dict) else value
        if limit is not None:
            limits[component] = int(limit)
        usage[component] = int(value.get("in_use", 0)) if isinstance(value, dict) else 0
    return limits, usage


def _nova_cinder(conn: Connection, found: list[str]) -> dict[str, tuple[dict[str, int],
                                                                        dict[str, int]]]:
    """Nova and Cinder quota sets with usage, per project, ``CONCURRENCY`` at a time."""
    services = [s for s in _QUOTA_SETS if conn.has_service(s)]

    def read(pid: str) -> tuple[dict[str, int], dict[str, int]]:
        limits: dict[str, int] = {}
        usage: dict[str, int] = {}
        for service in services:
            limit, used = _quota_set(conn, service, pid)
            limits.update(limit)
            usage.update(used)
        return limits, usage

    if not found or not services:
        return {pid: ({}, {}) for pid in found}
    first = read(found[0])  # builds each proxy and negotiates its version in this thread
    with ThreadPoolExecutor(max_workers=CONCURRENCY, thread_name_prefix="ocx-quota") as pool:
        rest = list(pool.map(read, found[1:]))
    return dict(zip(found, [first, *rest], strict=True))
