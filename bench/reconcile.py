"""How long the reconciler's reads take: ``describe`` over N projects, serial vs threads.

Starts a real OpenStack (Keystone, Nova, Cinder, Neutron...) the way the tests do,
creates N allocations' projects through the driver, then times ``describe`` over all of
them one by one and from a thread pool, and prints both and their ratio.

    PYTHONPATH=. .venv/bin/python bench/reconcile.py --projects 50 --threads 8
    PYTHONPATH=. .venv/bin/python bench/reconcile.py --keystone-only  # identity only
"""

from __future__ import annotations

import argparse
import contextlib
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from tests.servers.openstack import Keystone, cloud_server, keystone_server, project_driver

from ocx.drivers.project.base import ProjectSpec
from ocx.drivers.project.openstack import OpenStackProject


@contextlib.contextmanager
def provider(keystone_only: bool) -> Iterator[Keystone]:
    """A running Keystone, alone or in front of the whole cloud."""
    if keystone_only:
        with keystone_server() as keystone:
            yield keystone
    else:
        with cloud_server() as cloud:
            yield cloud.keystone


def create_projects(driver: OpenStackProject, count: int) -> list[str]:
    """``count`` allocations' projects with a quota set on each."""
    ids = []
    for _ in range(count):
        allocation = uuid.uuid4().hex[:8]
        external_id = driver.ensure_project(ProjectSpec(allocation, f"bench-{allocation}"))
        ids.append(external_id)
    return ids


def timed_describe(driver: OpenStackProject, ids: list[str], threads: int) -> float:
    """Seconds to describe every project, with ``threads`` workers (1: serial)."""
    start = time.perf_counter()
    if threads == 1:
        for external_id in ids:
            driver.describe(external_id)
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(driver.describe, ids))
    return time.perf_counter() - start


def main() -> None:
    """Run the benchmark and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--keystone-only", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    with provider(args.keystone_only) as keystone:
        print(f"provider up in {time.perf_counter() - started:.1f} s")
        driver = project_driver(keystone)
        ids = create_projects(driver, args.projects)
        if not args.keystone_only:
            for external_id in ids:
                driver.set_quota(external_id, {"cores": 4, "instances": 2, "volumes": 2})
        timed_describe(driver, ids[:1], 1)  # sign in and discover endpoints first
        serial = timed_describe(driver, ids, 1)
        parallel = timed_describe(driver, ids, args.threads)
    print(f"describe x{len(ids)}: serial {serial:.2f} s ({serial / len(ids) * 1000:.0f} ms "
          f"each), {args.threads} threads {parallel:.2f} s; speed-up {serial / parallel:.1f}x")


if __name__ == "__main__":
    main()
