"""Port moves on a real Open vSwitch: one batch per switch session vs one change per session.

Starts Open vSwitch (userspace datapath, in its own network namespace; installed with
apt-get if missing, as the tests do), adds N internal ports, isolated, then moves every
port to a network VLAN twice through OCX's OVS driver:

- batched: all N ports in one ``SwitchDriver.apply`` (one ``ovs-vsctl``, one OVSDB
  transaction, one ``ovs-vswitchd`` reconfiguration) — what OCX does when several port
  changes of a switch are pending;
- one per session: N ``apply`` calls of one port each — what a driver without batching
  (or HIL's one-action-at-a-time loop) does.

Run from the repository root, as root: ``.venv/bin/python bench/isolation.py [--ports N]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.servers.ovs import Ovs, open_vswitch

from ocx.drivers.switch.base import PortConfig
from ocx.drivers.switch.ovs import OvsSwitch


def add_ports(ovs: Ovs, count: int) -> list[str]:
    """``count`` internal ports on the bridge, isolated, in one transaction."""
    names = [f"bp{n}" for n in range(count)]
    args: list[str] = []
    for name in names:
        args += ["--", "add-port", ovs.bridge, name, "--", "set", "interface", name,
                 "type=internal", "--", "set", "port", name, "tag=4095", "protected=true"]
    ovs.vsctl(*args)
    return names


def timed(label: str, work: Callable[[], object]) -> float:
    """Seconds ``work()`` took."""
    started = time.perf_counter()
    work()
    elapsed = time.perf_counter() - started
    print(f"  {label:<32} {elapsed:8.3f} s", flush=True)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ports", type=int, default=1000)
    ports = parser.parse_args().ports
    with open_vswitch() as ovs:
        names = add_ports(ovs, ports)
        driver = OvsSwitch(OvsSwitch.Settings(db=ovs.db, bridge=ovs.bridge))
        print(f"Open vSwitch {ovs.bridge}: {ports} ports moved from isolation to a VLAN")
        batched = timed("batched (1 session)",
                        lambda: driver.apply([PortConfig(n, access_vlan=101) for n in names]))
        assert driver.read_port(names[-1]).access_vlan == 101

        def one_by_one() -> None:
            for name in names:
                driver.apply([PortConfig(name, access_vlan=102)])

        single = timed(f"one per session ({ports} sessions)", one_by_one)
        assert driver.read_port(names[-1]).access_vlan == 102
    print(f"  {'batched, per port':<32} {1000 * batched / ports:8.3f} ms")
    print(f"  {'one per session, per port':<32} {1000 * single / ports:8.3f} ms")
    print(f"  {'ratio':<32} {single / batched:8.1f} x  (goal: >= 10x, batched <= 2 s)")


if __name__ == "__main__":
    main()
