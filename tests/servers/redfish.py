"""A real Redfish service for the power tests: sushy-tools' emulator with fake systems.

``sushy-emulator`` (from PyPI, in the test extras) serves the Redfish API with its
fake systems driver (no libvirt), behind HTTP basic authentication with a bcrypt
password file, on a free loopback port. It is started from ``redfish_launcher.py``,
which removes the fake driver's random 1-11 s delay on power changes. Its state
directory is fresh for every start (systems persist there).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import httpx

LAUNCHER = Path(__file__).with_name("redfish_launcher.py")
ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Redfish:
    """A running emulator: its address, credentials and fake systems' ids."""

    url: str
    username: str
    password: str
    systems: list[str]
    pid: int


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _config(base: Path, port: int, systems: list[str], auth_file: Path) -> Path:
    fake = [{"uuid": system, "name": f"node-{n}", "power_state": "Off",
             "nics": [{"mac": f"52:54:00:00:{n // 256:02x}:{n % 256:02x}"}]}
            for n, system in enumerate(systems)]
    config = base / "emulator.conf"
    config.write_text(
        f"SUSHY_EMULATOR_LISTEN_IP = '127.0.0.1'\n"
        f"SUSHY_EMULATOR_LISTEN_PORT = {port}\n"
        f"SUSHY_EMULATOR_FAKE_DRIVER = True\n"
        f"SUSHY_EMULATOR_STATE_DIR = {str(base / 'state')!r}\n"
        f"SUSHY_EMULATOR_AUTH_FILE = {str(auth_file)!r}\n"
        f"SUSHY_EMULATOR_FAKE_SYSTEMS = {fake!r}\n")
    return config


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sushy-emulator exited ({process.returncode}): "
                               f"{log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"{url}/redfish/v1/", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"sushy-emulator did not answer within {START_TIMEOUT_S}s: "
                       f"{log.read_text(errors='replace')[-2000:]}")


@contextmanager
def redfish_emulator(count: int = 2, username: str = "ocx-admin",
                     password: str = "bmc-pass-0123") -> Iterator[Redfish]:
    """Run the emulator with ``count`` fake systems (all off); stop it by PID afterwards."""
    with tempfile.TemporaryDirectory(prefix="ocx-redfish-") as tmp:
        base = Path(tmp)
        auth_file = base / "htpasswd"
        digest = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
        auth_file.write_text(f"{username}:{digest}\n")
        systems = [str(uuid.uuid4()) for _ in range(count)]
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = base / "emulator.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, str(LAUNCHER), "--config",
                 str(_config(base, port, systems, auth_file)), "--interface", "127.0.0.1",
                 "--port", str(port)],
                stdout=out, stderr=subprocess.STDOUT, cwd=base, start_new_session=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            _wait_ready(url, process, log)
            yield Redfish(url=url, username=username, password=password, systems=systems,
                          pid=process.pid)
        finally:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.kill(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)
