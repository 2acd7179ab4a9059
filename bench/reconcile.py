"""The reconciler's check of N allocations on a real OpenStack: bulk vs one at a time.

Starts a real OpenStack (Keystone, Nova, Cinder, Neutron, Glance, Placement) the way the
tests do, with several gunicorn workers per API service, creates N allocations' projects
through the driver (quotas on Nova, some on Cinder and Neutron, one member on half of
them), then times the
reconciler's check of all of them (read every tenant, compare with OCX's wishes) twice
in the same run: with ``describe_many`` (the bulk path the reconciler uses) and with the
one-at-a-time baseline (``describe`` per allocation, in series), and prints both and
their ratio.

    PYTHONPATH=. .venv/bin/python bench/reconcile.py                 # 1,000 allocations
    PYTHONPATH=. .venv/bin/python bench/reconcile.py --allocations 100
"""

from __future__ import annotations

import argparse
import functools
import os
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar, cast

from ocx.domain.allocations import provisioning, reconciler
from ocx.drivers.project.base import ProjectDriver, ProjectSpec, ProjectState, ProjectUser
from ocx.drivers.project.openstack import OpenStackProject
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
        except DriverError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


def create_allocation(driver: OpenStackProject, n: int) -> reconciler.Check:
    """One allocation's project, quota and member, as the apply operation makes them."""
    allocation = str(uuid.uuid4())
    spec = ProjectSpec(allocation, f"bench-{n:04d}-{allocation[:8]}")
    # Nova limits on each; Cinder and Neutron ones, and a member, on some (each costs
    # the cloud ~0.3 s to set: 1,000 of everything takes too long to make on 2 cores)
    quota = {"cores": 4 + n % 8, "ram_mib": 8192, "instances": 2 + n % 3}
    quota |= {"volumes": 2, "storage_gib": 100 + n % 50} if n % 4 == 1 else {}
    quota |= {"networks": 1 + n % 5} if n % 4 == 2 else {}
    users = {m.user_id: m for m in [MEMBERS[n % len(MEMBERS)]] if n % 2 == 0}
    external_id = retried(lambda: driver.ensure_project(spec))
    retried(lambda: driver.set_quota(external_id, quota))
    for member in users.values():
        retried(functools.partial(driver.ensure_user, external_id, member))
    want = provisioning.Desired(spec=spec, enabled=True, quota=quota, users=users)
    return reconciler.Check(uuid.UUID(allocation), 1, external_id, want)


def create_allocations(driver: OpenStackProject, count: int, threads: int
                       ) -> list[reconciler.Check]:
    """``count`` allocations, ``threads`` at a time (the first alone, to sign in)."""
    first = create_allocation(driver, 0)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        rest = list(pool.map(lambda n: create_allocation(driver, n), range(1, count)))
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
        print(f"{len(work)} allocations created in {time.perf_counter() - started:.1f} s",
              flush=True)
        baseline = cast(ProjectDriver, OneAtATime(driver))
        check(driver, work[:5])  # warm both paths: tokens, endpoints, service caches
        check(baseline, work[:5])
        serial, one_by_one = check(baseline, work)
        print(f"one at a time  {serial:8.2f} s", flush=True)
        bulk, together = check(driver, work)
        print(f"bulk           {bulk:8.2f} s", flush=True)
        again, _ = check(driver, work)
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
