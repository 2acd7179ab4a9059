"""A real Open vSwitch for the isolation tests, and "nodes" that are network namespaces.

Debian's ``openvswitch-switch`` (installed here with apt-get when missing, with
``iputils-ping``) runs from a temporary directory: ``ovsdb-server`` with a fresh
database on a unix socket and ``ovs-vswitchd`` with its userspace datapath (the kernel
here has no openvswitch module), one bridge with ``datapath_type=netdev``.

The switch daemon runs in a network namespace of its own: the userspace datapath opens
a host-wide ``ovs-netdev`` tap device, which a second Open vSwitch on the same host
(another test run, a developer's) would otherwise fight over. A node is another
namespace whose ``eth0`` is one end of a veth pair; the other end, in the switch's
namespace, is a port of the bridge. Addresses live only inside the node namespaces
(10.99.0.0/24). Everything is removed at the end: the daemons (by their pid files), and
the namespaces with every link in them.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers.apt import apt_install

SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")
PACKAGES = ("openvswitch-switch", "iputils-ping")
SUBNET = "10.99.0"


def ensure_installed() -> None:
    """Install Open vSwitch and ping with apt-get unless they are there.

    Raises:
        RuntimeError: not root, or apt-get failed (the message says why).
    """
    if shutil.which("ovs-vswitchd") and shutil.which("ping") and SCHEMA.exists():
        return
    apt_install("Open vSwitch", PACKAGES)


def _run(*argv: str, env: dict[str, str] | None = None, check: bool = True) -> str:
    done = subprocess.run(list(argv), capture_output=True, text=True, env=env, timeout=60,
                          check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr.strip()}")
    return done.stdout


@dataclass
class Ovs:
    """A running Open vSwitch with one bridge, and the namespace nodes plugged into it."""

    base: Path
    bridge: str
    tag: str = field(default_factory=lambda: secrets.token_hex(2))
    netns: str = ""  # the switch's own namespace
    serial: int = 0  # port names are never reused: vswitchd may still hold an old one
    nodes: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (netns, port)

    @property
    def db(self) -> str:
        """The OVSDB address drivers use."""
        return f"unix:{self.base / 'db.sock'}"

    def vsctl(self, *args: str) -> str:
        """Run ovs-vsctl against this switch."""
        return _run("ovs-vsctl", f"--db={self.db}", "--timeout=20", *args)

    def add_node(self, name: str, host: int) -> str:
        """A namespace with ``eth0`` at 10.99.0.<host>, plugged into a new bridge port.

        The port is added isolated (the quarantine VLAN, protected), as a provider cables
        a new machine; its name (what OCX is told) is returned.
        """
        self.serial += 1
        netns, port = f"ocx-{self.tag}-{name}", f"v{self.tag}{self.serial}{name}"[:15]
        _run("ip", "netns", "add", netns)
        self.nodes[name] = (netns, port)
        _run("ip", "-n", self.netns, "link", "add", port, "type", "veth", "peer", "name", "eth0",
             "netns", netns)
        _run("ip", "-n", self.netns, "link", "set", port, "up")
        _run("ip", "-n", netns, "addr", "add", f"{SUBNET}.{host}/24", "dev", "eth0")
        _run("ip", "-n", netns, "link", "set", "eth0", "up")
        _run("ip", "-n", netns, "link", "set", "lo", "up")
        self.vsctl("add-port", self.bridge, port, "--", "set", "port", port, "tag=4095",
                   "vlan_mode=access", "protected=true")
        return port

    def port(self, name: str) -> str:
        """The bridge port of node ``name``."""
        return self.nodes[name][1]

    def reaches(self, source: str, host: int) -> bool:
        """Whether node ``source`` gets an echo reply from 10.99.0.<host>."""
        netns = self.nodes[source][0]
        done = subprocess.run(["ip", "netns", "exec", netns, "ping", "-c", "3", "-i", "0.2",
                               "-W", "1", "-q", f"{SUBNET}.{host}"], capture_output=True,
                              timeout=30, check=False)
        return done.returncode == 0

    def remove_nodes(self) -> None:
        """Delete every namespace node and its link."""
        for netns, port in self.nodes.values():
            with suppress(RuntimeError):
                self.vsctl("--if-exists", "del-port", self.bridge, port)
            _run("ip", "-n", self.netns, "link", "del", port, check=False)
            _run("ip", "netns", "del", netns, check=False)
        self.nodes.clear()


def _stop(pidfile: Path) -> None:
    with suppress(FileNotFoundError, ValueError, ProcessLookupError):
        pid = int(pidfile.read_text().strip())
        os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            os.kill(pid, 0)
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)


@contextmanager
def open_vswitch() -> Iterator[Ovs]:
    """ovsdb-server and ovs-vswitchd in a temporary directory, with one netdev bridge."""
    ensure_installed()
    base = Path(tempfile.mkdtemp(prefix="ocx-ovs-"))
    env = {**os.environ, "OVS_RUNDIR": str(base), "OVS_LOGDIR": str(base),
           "OVS_DBDIR": str(base)}
    ovs = Ovs(base=base, bridge=f"ocxbr{secrets.token_hex(2)}")
    ovs.netns = f"ocx-{ovs.tag}-switch"
    _run("ip", "netns", "add", ovs.netns)
    try:
        _run("ovsdb-tool", "create", str(base / "conf.db"), str(SCHEMA), env=env)
        _run("ovsdb-server", str(base / "conf.db"), f"--remote=punix:{base / 'db.sock'}",
             f"--pidfile={base / 'ovsdb-server.pid'}", "--detach", "--log-file", env=env)
        _run("ovs-vsctl", f"--db={ovs.db}", "--no-wait", "init", env=env)
        _run("ip", "netns", "exec", ovs.netns, "ovs-vswitchd", f"unix:{base / 'db.sock'}",
             f"--pidfile={base / 'ovs-vswitchd.pid'}", "--detach", "--log-file", env=env)
        ovs.vsctl("add-br", ovs.bridge, "--", "set", "bridge", ovs.bridge,
                  "datapath_type=netdev")
        yield ovs
    finally:
        ovs.remove_nodes()
        with suppress(RuntimeError):
            ovs.vsctl("--if-exists", "del-br", ovs.bridge)
        _stop(base / "ovs-vswitchd.pid")
        _stop(base / "ovsdb-server.pid")
        _run("ip", "netns", "del", ovs.netns, check=False)
        shutil.rmtree(base, ignore_errors=True)
