"""A real IPMI BMC for the power tests: OpenIPMI's ``ipmi_sim`` on a loopback UDP port.

``ipmi_sim`` (Debian's ``openipmi``, installed here with apt-get when missing) is a C
implementation of an IPMI 2.0 LAN BMC, independent of pyghmi. It needs three things
beyond a LAN channel and users before it will switch power:

- ``chassis_control "PROGRAM ARGS"``: without it (or a VM serial channel) every chassis
  control request is refused with "Invalid data field in request". ipmi_sim runs
  ``PROGRAM ARGS get power`` / ``set power 1`` / ``set reset 1`` / ``set boot pxe`` and
  reads ``power:1`` back. Here the program is :data:`CHASSIS_SCRIPT`, which keeps the
  machine's power and boot device in files of the BMC's directory.
- an emulation command file: ``mc_setbmc``, ``mc_add`` and ``mc_enable`` of the BMC.
- a fresh state directory (``-s``): ipmi_sim persists users there, over the config.

``startcmd`` (a process standing for the machine, with ``startnow``, ``poweroff_wait``
and ``kill_wait``) was tried too: it powers on and off only together with a ``serial 15
... codec VM`` channel, and then still refuses a hard reset and the boot device, so the
chassis-control program is the way to a BMC that does everything a driver asks.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_S = 10.0
# An RMCP/ASF presence ping (IANA 4542, message type 0x80): a BMC answers with a pong.
PRESENCE_PING = bytes.fromhex("0600ff06000011be80000000")

CHASSIS_SCRIPT = """#!/bin/sh
# ipmi_sim's chassis control: DIR get PARM... | DIR set PARM VALUE...
dir=$1; op=$2; shift 2
case $op in
  get)
    for parm in "$@"; do
      case $parm in
        power) echo "power:$(cat "$dir/power")";;
        boot) echo "boot:$(cat "$dir/boot")";;
        *) echo "Invalid parameter: $parm"; exit 1;;
      esac
    done;;
  set)
    while [ $# -ge 2 ]; do
      case $1 in
        power|boot) echo "$2" > "$dir/$1";;
        reset|shutdown|identify) echo "$2" >> "$dir/$1.log";;
        *) echo "Invalid parameter: $1"; exit 1;;
      esac
      shift 2
    done;;
  *) echo "Unknown operation: $op"; exit 1;;
esac
"""


@dataclass(frozen=True)
class Ipmi:
    """A running ``ipmi_sim``: its address, an admin's and a read-only user's credentials."""

    host: str
    port: int
    username: str
    password: str
    viewer: str
    viewer_password: str
    machine: Path
    pid: int

    def power(self) -> str:
        """What the machine behind the BMC is: ``1`` (on) or ``0`` (off)."""
        return (self.machine / "power").read_text().strip()

    def boot(self) -> str:
        """The boot device ipmi_sim last set: ``pxe``, ``default`` (the disk), ``none``..."""
        return (self.machine / "boot").read_text().strip()

    def resets(self) -> int:
        """How many hard resets the machine received."""
        log = self.machine / "reset.log"
        return len(log.read_text().split()) if log.exists() else 0

    def settings(self, **changes: object) -> dict[str, object]:
        """The ``ipmi`` power driver's settings for this BMC, with ``changes``."""
        return {"host": self.host, "port": self.port, "username": self.username,
                "password": self.password, **changes}


def ensure_installed() -> None:
    """Install Debian's ``openipmi`` with apt-get unless ``ipmi_sim`` is there.

    Raises:
        RuntimeError: not root, or apt-get failed (the message says why).
    """
    if shutil.which("ipmi_sim"):
        return
    if os.geteuid() != 0:
        raise RuntimeError("ipmi_sim is not installed and installing openipmi needs root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=False)
    done = subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends",
                           "openipmi"], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not shutil.which("ipmi_sim"):
        raise RuntimeError(f"apt-get could not install openipmi: {done.stderr.strip()[-1000:]}")


def free_udp_port() -> int:
    """A loopback UDP port nobody holds right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _configure(base: Path, port: int, users: dict[str, tuple[str, str]]) -> tuple[Path, Path]:
    machine = base / "machine"
    machine.mkdir()
    (machine / "power").write_text("0\n")
    (machine / "boot").write_text("default\n")
    script = base / "chassis-control"
    script.write_text(CHASSIS_SCRIPT)
    script.chmod(0o755)
    auths = "none md2 md5 straight"
    lines = [
        'name "ocx-test-bmc"', "set_working_mc 0x20",
        "  startlan 1", f"    addr 127.0.0.1 {port}", "    priv_limit admin",
        *(f"    allowed_auths_{level} {auths}" for level in
          ("callback", "user", "operator", "admin")),
        "    guid a123456789abcdefa123456789abcdef", "  endlan",
        f'  chassis_control "{script} {machine}"',
        *(f'  user {number} true "{name}" "{password}" {privilege} 10 {auths}'
          for number, (name, (password, privilege)) in enumerate(users.items(), start=2)),
    ]
    config = base / "lan.conf"
    config.write_text("\n".join(lines) + "\n")
    commands = base / "bmc.emu"
    commands.write_text("mc_setbmc 0x20\n"
                        "mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02\n"
                        "mc_enable 0x20\n")
    return config, commands


def _wait_ready(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"ipmi_sim exited ({process.returncode}): "
                                   f"{log.read_text(errors='replace')[-2000:]}")
            sock.sendto(PRESENCE_PING, ("127.0.0.1", port))
            try:
                if sock.recv(64):
                    return
            except OSError:  # timed out, or an ICMP "port unreachable" before it listens
                time.sleep(0.1)
    raise RuntimeError(f"ipmi_sim did not answer a presence ping within {START_TIMEOUT_S}s: "
                       f"{log.read_text(errors='replace')[-2000:]}")


@contextmanager
def ipmi_simulator(username: str = "ocx-admin", password: str = "bmc-pass-0123",
                   viewer: str = "ocx-viewer", viewer_password: str = "view-0123"
                   ) -> Iterator[Ipmi]:
    """Run ipmi_sim with one machine (off, booting from disk); stop it by PID afterwards."""
    ensure_installed()
    with tempfile.TemporaryDirectory(prefix="ocx-ipmi-") as tmp:
        base = Path(tmp)
        port = free_udp_port()
        config, commands = _configure(base, port, {username: (password, "admin"),
                                                   viewer: (viewer_password, "user")})
        (base / "state").mkdir()
        log = base / "ipmi_sim.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                ["ipmi_sim", "-n", "-c", str(config), "-f", str(commands),
                 "-s", str(base / "state")],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=base,
                start_new_session=True)
        try:
            _wait_ready(port, process, log)
            yield Ipmi(host="127.0.0.1", port=port, username=username, password=password,
                       viewer=viewer, viewer_password=viewer_password,
                       machine=base / "machine", pid=process.pid)
        finally:
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM by PID, then SIGKILL if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            return
        os.kill(process.pid, sig)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
