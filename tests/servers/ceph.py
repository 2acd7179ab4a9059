"""A real single-host Ceph cluster for the RBD image backend (and RGW, for S3 tests).

Debian's Pacific packages (installed here with apt-get when missing) run from a
temporary directory: one monitor, one manager, one OSD on ``memstore`` (objects in
memory: nothing touches a disk, and small test images cost little), every pool of size
1, one keyring for every daemon and client (named in ceph.conf, so clients need only
``--conf``). Ports are picked free at start. An ``rbd`` pool is made
for images; ``radosgw=True`` also starts one radosgw on loopback (``Ceph.rgw_url``)
with the usage log on, and waits until it answers HTTP (the first bucket still takes a
few seconds while it makes its pools).

The daemons are killed by their pid files and the directory removed at the end. If the
cluster cannot start, :func:`ceph_cluster` raises with the reason and the last lines of
the daemon's log.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.servers.apt import apt_install

PACKAGES = ("ceph-mon", "ceph-mgr", "ceph-osd", "ceph-common", "radosgw", "qemu-utils")
BINARIES = ("ceph-mon", "ceph-mgr", "ceph-osd", "ceph", "rbd", "monmaptool", "radosgw",
            "qemu-img")
RBD_POOL = "rbd"
START_TIMEOUT_S = 120.0


def ensure_installed() -> None:
    """Install the Ceph daemons and tools with apt-get unless they are there.

    Raises:
        RuntimeError: not root, or apt-get failed (the message says why).
    """
    if all(shutil.which(binary) for binary in BINARIES):
        return
    apt_install("Ceph", PACKAGES)


def free_port() -> int:
    """A TCP port nothing listens on now, on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Ceph:
    """A running single-host cluster: its config file, and helpers to ask it things."""

    base: Path
    fsid: str
    rgw_port: int | None = None

    @property
    def conf(self) -> Path:
        """The ceph.conf clients use (``--conf``, ``rbd:...:conf=``)."""
        return self.base / "ceph.conf"

    @property
    def rgw_url(self) -> str:
        """Where radosgw answers (S3 and the admin ops API), if it was started."""
        if self.rgw_port is None:
            raise RuntimeError("this cluster was started without radosgw")
        return f"http://127.0.0.1:{self.rgw_port}"

    def run(self, *argv: str, check: bool = True, timeout: float = 60.0) -> str:
        """Run a Ceph command-line tool against this cluster; its standard output."""
        done = subprocess.run([argv[0], "--conf", str(self.conf), *argv[1:]],
                              capture_output=True, text=True, timeout=timeout, check=False)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr.strip()[-2000:]}")
        return done.stdout

    def json(self, *argv: str) -> Any:
        """``ceph ARGV --format json``, parsed."""
        return json.loads(self.run("ceph", *argv, "--format", "json") or "null")

    def log_tail(self, name: str, lines: int = 20) -> str:
        """The last lines of daemon ``name``'s log (mon.a, osd.0, client.rgw...)."""
        path = self.base / "log" / f"{name}.log"
        if not path.exists():
            return f"(no log {path.name})"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _config(base: Path, fsid: str, mon_v1: int, mon_v2: int) -> str:
    return f"""[global]
fsid = {fsid}
mon host = [v2:127.0.0.1:{mon_v2},v1:127.0.0.1:{mon_v1}]
public addr = 127.0.0.1
keyring = {base}/keyring
run dir = {base}/run
admin socket = {base}/run/$name.asok
log file = {base}/log/$name.log
pid file = {base}/run/$name.pid
crash dir = {base}/crash
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon data avail warn = 1
auth allow insecure global id reclaim = false
mon warn on pool no redundancy = false
mon_max_pg_per_osd = 1000
osd objectstore = memstore
memstore device bytes = 4294967296
osd data = {base}/$name
mon data = {base}/$name
mgr data = {base}/$name
# Small and quiet: a test cluster on a shared two-core machine.
osd op num shards = 1
osd op num threads per shard = 2
mgr disabled modules = dashboard prometheus restful
ms bind ipv6 = false
"""


def _rgw_config(base: Path, port: int) -> str:
    return f"""
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:{port}
rgw enable usage log = true
rgw usage log tick interval = 1
rgw usage log flush threshold = 1
rgw dns name = localhost
rgw data = {base}/client.rgw
"""


def _stop_all(run: Path) -> None:
    """Kill every daemon of the cluster at once. Its data is thrown away, so nothing needs
    a clean shutdown; stopping them politely one by one took long enough (an OSD or a
    radosgw waiting on a monitor) that a test process ending meanwhile left some behind."""
    pids = []
    for pidfile in run.glob("*.pid"):
        with suppress(FileNotFoundError, ValueError, ProcessLookupError):
            pid = int(pidfile.read_text().strip())
            os.kill(pid, signal.SIGKILL)
            pids.append(pid)
    deadline = time.monotonic() + 5
    while pids and time.monotonic() < deadline:
        for pid in list(pids):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                pids.remove(pid)
        time.sleep(0.05)


def _wait(ceph: Ceph, what: str, ready: Callable[[], bool], log: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    last = ""
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except (RuntimeError, subprocess.TimeoutExpired, ValueError, KeyError) as exc:
            last = str(exc)
        time.sleep(0.5)
    raise RuntimeError(f"Ceph: {what} not ready after {START_TIMEOUT_S:g}s ({last}); "
                       f"{log} log:\n{ceph.log_tail(log)}")


# Every entity's key, in the one keyring ``ceph-mon --mkfs`` imports (radosgw refuses to
# run without cephx, so the cluster uses it throughout).
KEYS = {
    "mon.": ("--cap", "mon", "allow *"),
    "client.admin": ("--cap", "mon", "allow *", "--cap", "osd", "allow *",
                     "--cap", "mgr", "allow *", "--cap", "mds", "allow *"),
    "mgr.x": ("--cap", "mon", "allow profile mgr", "--cap", "osd", "allow *",
              "--cap", "mds", "allow *"),
    "osd.0": ("--cap", "mon", "allow profile osd", "--cap", "mgr", "allow profile osd",
              "--cap", "osd", "allow *"),
    "client.rgw": ("--cap", "mon", "allow rw", "--cap", "osd", "allow rwx",
                   "--cap", "mgr", "allow rw"),
}


def _make_keyring(ceph: Ceph) -> None:
    keyring = str(ceph.base / "keyring")
    for number, (name, caps) in enumerate(KEYS.items()):
        create = ["--create-keyring"] if number == 0 else []
        ceph.run("ceph-authtool", keyring, *create, "--gen-key", "-n", name, *caps)


def _start_daemons(ceph: Ceph, mon_v1: int, mon_v2: int) -> None:
    base = ceph.base
    _make_keyring(ceph)
    ceph.run("monmaptool", "--create", "--fsid", ceph.fsid, "--addv", "a",
             f"[v2:127.0.0.1:{mon_v2},v1:127.0.0.1:{mon_v1}]", str(base / "monmap"))
    ceph.run("ceph-mon", "--mkfs", "-i", "a", "--monmap", str(base / "monmap"),
             "--keyring", str(base / "keyring"))
    ceph.run("ceph-mon", "-i", "a")
    _wait(ceph, "the monitor", lambda: ceph.json("mon", "stat") is not None, "mon.a")
    (base / "mgr.x").mkdir()
    ceph.run("ceph-mgr", "-i", "x")
    osd_uuid = str(uuid.uuid4())
    osd_id = ceph.run("ceph", "osd", "create", osd_uuid).strip()
    (base / f"osd.{osd_id}").mkdir()
    ceph.run("ceph-osd", "-i", osd_id, "--mkfs", "--osd-uuid", osd_uuid, "--no-mon-config")
    ceph.run("ceph-osd", "-i", osd_id)
    _wait(ceph, "the OSD", lambda: ceph.json("osd", "stat")["num_up_osds"] == 1,
          f"osd.{osd_id}")


def _make_rbd_pool(ceph: Ceph) -> None:
    ceph.run("ceph", "osd", "pool", "create", RBD_POOL, "8")
    ceph.run("ceph", "osd", "pool", "application", "enable", RBD_POOL, "rbd")
    ceph.run("rbd", "pool", "init", RBD_POOL)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _start_rgw(ceph: Ceph, port: int) -> None:
    (ceph.base / "client.rgw").mkdir()
    ceph.run("radosgw", "-n", "client.rgw")
    _wait(ceph, "radosgw", lambda: _answers(port), "client.rgw")


@contextmanager
def ceph_cluster(*, radosgw: bool = False) -> Iterator[Ceph]:
    """A fresh mon + mgr + memstore OSD with an ``rbd`` pool (and radosgw if asked).

    Raises:
        RuntimeError: Ceph is missing and cannot be installed, or a daemon did not come up
            (the message has its log's last lines).
    """
    ensure_installed()
    base = Path(tempfile.mkdtemp(prefix="ocx-ceph-"))
    for sub in ("run", "log", "crash"):
        (base / sub).mkdir()
    mon_v1, mon_v2 = free_port(), free_port()
    ceph = Ceph(base=base, fsid=str(uuid.uuid4()), rgw_port=free_port() if radosgw else None)
    text = _config(base, ceph.fsid, mon_v1, mon_v2)
    ceph.conf.write_text(text + (_rgw_config(base, ceph.rgw_port) if ceph.rgw_port else ""))
    try:
        _start_daemons(ceph, mon_v1, mon_v2)
        _make_rbd_pool(ceph)
        if ceph.rgw_port is not None:
            _start_rgw(ceph, ceph.rgw_port)
        yield ceph
    finally:
        _stop_all(base / "run")
        shutil.rmtree(base, ignore_errors=True)
