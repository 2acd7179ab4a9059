"""The reconciler's check of N allocations on a real OpenStack: bulk vs one at a time.

Starts a real OpenStack (Keystone, Nova, Cinder, Neutron, Glance, Placement) the way the
tests do, with several gunicorn workers per API service, creates N allocations' projects
(quotas on Nova, some on Cinder and Neutron, one member on half of them; the first
through the driver, the rest by direct calls that make the same, see ``Maker``), then
times the reconciler's check of all of them (read every tenant, compare with OCX's
wishes) twice in the same run: with ``describe_many`` (the bulk path the reconciler
uses) and with the one-at-a-time baseline (``describe`` per allocation, in series), and
prints both, their ratio and the machine's load average.

    PYTHONPATH=. .venv/bin/python bench/reconcile.py                 # 1,000 allocations
    PYTHONPATH=. .venv/bin/python bench/reconcile.py --allocations 100
"""

from __future__ import annotations

import argparse
import functools
import os
import secrets
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar, cast

from openstack import exceptions as sdk_exceptions

from ocx.domain.allocations import provisioning, reconciler
from ocx.drivers.project import openstack_quota
from ocx.drivers.project.base import ProjectDriver, ProjectSpec, ProjectState, ProjectUser
from ocx.drivers.project.openstack import (
    CREATED_MARK,
    OCX_TAG,
    USER_PREFIX,
    OpenStackProject,
    allocation_tag,
)
from ocx.errors import DriverError

T = TypeVar("T")
WORKERS = "keystone=2,nova-api=3,cinder-api=3,neutron=2"  # gunicorn workers per service
MEMBERS = [ProjectUser(user_id=f"bench-user-{n:02d}", email=f"user{n}@bench.example.org")
           for n in range(50)]


def retried(call: Callable[[], T], attempts: int = 5) -> T:
    """``call()``, again after a pause if the cloud was busy (SQLite Keystone may be)."""
    for attempt in range(attempts):
        try:
            return call()
        except (DriverError, sdk_exceptions.SDKException):
            if attempt == attempts - 1:
                raise
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


def _sent(proxy: Any, method: str, path: str, **kwargs: Any) -> Any:
    """A raw request's response, or the SDK's exception for its error."""
    response = getattr(proxy, method)(path, **kwargs)
    sdk_exceptions.raise_from_response(response)
    return response


def wishes(n: int) -> tuple[dict[str, int], dict[str, ProjectUser]]:
    """Allocation ``n``'s quota and members: Nova limits on each, Cinder and Neutron ones
    on a quarter each, one member on half (setting each costs the cloud ~0.3 s on 2
    cores: a thousand of everything takes too long to make)."""
    quota = {"cores": 4 + n % 8, "ram_mib": 8192, "instances": 2 + n % 3}
    quota |= {"volumes": 2, "storage_gib": 100 + n % 50} if n % 4 == 1 else {}
    quota |= {"networks": 1 + n % 5} if n % 4 == 2 else {}
    return quota, {m.user_id: m for m in [MEMBERS[n % len(MEMBERS)]] if n % 2 == 0}


class Maker:
    """Allocations' projects made as the driver's apply makes them, in fewer calls.

    The first allocation goes through the driver (``ensure_project``, ``set_quota``,
    ``ensure_user``). The others are made by direct calls with the same result (the same
    tags, the quota written by the driver's own ``openstack_quota.write``, the members'
    ``ocx-`` users made once up front and given the member role) and none of the
    driver's look-ups first: setting up is not what is measured, and both checks fail
    on anything that differs from the allocation's wishes.
    """

    def __init__(self, driver: OpenStackProject) -> None:
        self.driver = driver
        self.conn = driver.conn
        self.keystone_users: dict[str, str] = {}  # OCX user id -> Keystone user id
        self.domain_id = ""
        self.role_id = ""

    def through_driver(self, n: int) -> reconciler.Check:
        """Allocation ``n`` exactly as the apply operation makes it."""
        spec, quota, users = self._wish(n)
        driver = self.driver
        external_id = retried(lambda: driver.ensure_project(spec))
        retried(lambda: driver.set_quota(external_id, quota))
        for member in users.values():
            retried(functools.partial(driver.ensure_user, external_id, member))
        return self._check(spec, quota, users, external_id)

    def prepare(self) -> None:
        """The members' Keystone users (as ``ensure_user`` makes them), the role, the
        domain."""
        identity = self.conn.identity
        self.domain_id = str(identity.find_domain("Default", ignore_missing=False).id)
        self.role_id = str(identity.find_role("member", ignore_missing=False).id)
        for member in MEMBERS:
            name = USER_PREFIX + member.user_id
            found = list(identity.users(name=name))
            user = found[0] if found else identity.create_user(
                name=name, domain_id=self.domain_id, email=member.email, is_enabled=True,
                description=f"{CREATED_MARK} for {member.email}",
                password=secrets.token_urlsafe(32))
            self.keystone_users[member.user_id] = str(user.id)

    def directly(self, n: int) -> reconciler.Check:
        """Allocation ``n`` in one call per thing made."""
        spec, quota, users = self._wish(n)
        identity = self.conn.identity
        body = {"project": {"name": spec.name, "description": spec.description,
                            "domain_id": self.domain_id, "enabled": True,
                            "tags": [OCX_TAG, allocation_tag(spec.allocation_id)]}}
        made = retried(functools.partial(_sent, identity, "post", "/projects", json=body))
        external_id = str(made.json()["project"]["id"])
        retried(lambda: openstack_quota.write(self.conn, external_id, quota))
        for member in users.values():
            path = (f"/projects/{external_id}/users/{self.keystone_users[member.user_id]}"
                    f"/roles/{self.role_id}")
            retried(functools.partial(_sent, identity, "put", path))
        return self._check(spec, quota, users, external_id)

    @staticmethod
    def _wish(n: int) -> tuple[ProjectSpec, dict[str, int], dict[str, ProjectUser]]:
        allocation = str(uuid.uuid4())
        return (ProjectSpec(allocation, f"bench-{n:04d}-{allocation[:8]}"), *wishes(n))

    @staticmethod
    def _check(spec: ProjectSpec, quota: dict[str, int], users: dict[str, ProjectUser],
               external_id: str) -> reconciler.Check:
        want = provisioning.Desired(spec=spec, enabled=True, quota=quota, users=users)
        return reconciler.Check(uuid.UUID(spec.allocation_id), 1, external_id, want)


def create_allocations(driver: OpenStackProject, count: int, threads: int
                       ) -> list[reconciler.Check]:
    """``count`` allocations: the first through the driver (signing in), the rest
    directly, ``threads`` at a time."""
    maker = Maker(driver)
    first = maker.through_driver(0)
    maker.prepare()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        rest = list(pool.map(maker.directly, range(1, count)))
    return [first, *rest]


class OneAtATime:
    """The baseline: the interface's default ``describe_many``, which asks the driver's
    ``describe`` one tenant after the other."""

    def __init__(self, driver: OpenStackProject) -> None:
        self.driver = driver

    def describe_many(self, external_ids: Sequence[str]) -> dict[str, ProjectState]:
        """``describe`` of each tenant in turn."""
        return ProjectDriver.describe_many(self.driver, external_ids)


def check(driver: ProjectDriver, work: list[reconciler.Check]
          ) -> tuple[float, dict[str, ProjectState]]:
    """Seconds for the reconciler's check of ``work`` (read, then compare), and what it read.

    Fails if anything was unreadable or drifted: the allocations were just made as wished.
    """
    started = time.perf_counter()
    results = reconciler.describe_all(driver, work)
    drifted = [(item.external_id, item.error or item.missing or
                provisioning.differences(item.want, item.state))
               for item in results if item.state is None
               or provisioning.differences(item.want, item.state)]
    elapsed = time.perf_counter() - started
    if drifted:
        raise SystemExit(f"{len(drifted)} allocations drifted or failed, e.g. {drifted[:3]}")
    return elapsed, {item.external_id: item.state for item in results if item.state}


def load() -> str:
    """The machine's load average (1, 5, 15 minutes): the figures depend on it."""
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    """Run the benchmark and print the results."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--allocations", type=int, default=1000)
    parser.add_argument("--create-threads", type=int, default=8)
    args = parser.parse_args()
    os.environ.setdefault("OCX_OPENSTACK_WORKERS", WORKERS)
    from tests.servers.openstack import cloud_server, project_driver  # reads the env

    started = time.perf_counter()
    with cloud_server() as cloud:
        print(f"OpenStack up in {time.perf_counter() - started:.1f} s "
              f"(gunicorn workers: {os.environ['OCX_OPENSTACK_WORKERS']})", flush=True)
        driver = project_driver(cloud.keystone)
        started = time.perf_counter()
        work = create_allocations(driver, args.allocations, args.create_threads)
        print(f"{len(work)} allocations created in {time.perf_counter() - started:.1f} s "
              f"({load()})", flush=True)
        baseline = cast(ProjectDriver, OneAtATime(driver))
        check(driver, work[:5])  # warm both paths: tokens, endpoints, service caches
        check(baseline, work[:5])
        serial, one_by_one = check(baseline, work)
        print(f"one at a time  {serial:8.2f} s  ({load()})", flush=True)
        bulk, together = check(driver, work)
        print(f"bulk           {bulk:8.2f} s  ({load()})", flush=True)
        again, _ = check(driver, work)
        print(f"bulk again     {again:8.2f} s  ({load()})", flush=True)
    assert together == one_by_one, "the bulk path must read what describe reads"
    n = len(work)
    print(f"\nreconciler check of {n} allocations (real Keystone, Nova, Cinder, Neutron):")
    print(f"  one at a time (describe x{n})  {serial:8.2f} s  ({serial / n * 1000:.1f} ms each)")
    print(f"  bulk (describe_many)           {bulk:8.2f} s  ({bulk / n * 1000:.1f} ms each)")
    print(f"  bulk, second run               {again:8.2f} s")
    print(f"  ratio                          {serial / bulk:8.1f} x  "
          "(goal: >= 5x, bulk < 60 s)")


if __name__ == "__main__":
    main()
