"""A real OpenID Connect provider for the sso tests: npm ``oidc-provider`` run by node.

The package is pinned in ``tests/servers/oidc/package-lock.json`` and installed with
``npm ci`` into ``.testbed/oidc-provider`` (ignored by git) the first time, under a file
lock so parallel test workers install it once. Node comes from Debian if missing.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

SOURCE = Path(__file__).parent / "oidc"
INSTALL = Path(__file__).resolve().parents[2] / ".testbed" / "oidc-provider"
FILES = ("package.json", "package-lock.json", "op.mjs")
START_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class OidcServer:
    """A running provider: its issuer URL and the static clients and accounts of op.mjs."""

    issuer: str
    client_id: str = "ocx"
    client_secret: str = "ocx-client-secret"
    other_client_id: str = "other-app"
    other_client_secret: str = "other-app-secret"


def free_port() -> int:
    """A TCP port nobody listens on right now (on loopback)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _ensure_node() -> None:
    if shutil.which("node") and shutil.which("npm"):
        return
    subprocess.run(["apt-get", "install", "-y", "-q", "nodejs", "npm"], check=True,
                   stdout=subprocess.DEVNULL)


def _install() -> None:
    """Copy the provider's files and ``npm ci`` them when the lockfile changed."""
    INSTALL.mkdir(parents=True, exist_ok=True)
    stamp = hashlib.sha256(b"".join((SOURCE / name).read_bytes() for name in FILES)).hexdigest()
    with (INSTALL.parent / "oidc-provider.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (INSTALL / ".stamp").exists() and (INSTALL / ".stamp").read_text() == stamp:
            return
        _ensure_node()
        for name in FILES:
            shutil.copy(SOURCE / name, INSTALL / name)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=INSTALL, check=True, capture_output=True, timeout=300)
        (INSTALL / ".stamp").write_text(stamp)


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=1).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer in {START_TIMEOUT_S}s: {log.read_text()}")


@contextmanager
def running(argv: list[str], ready_url: str, log: Path, what: str,
            cwd: Path | None = None) -> Iterator[None]:
    """Run ``argv`` (output to ``log``) until ``ready_url`` answers; stop it by PID after."""
    with log.open("wb") as out:
        process = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_ready(ready_url, process, log, what)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def oidc_server(redirect_uri: str, workdir: Path) -> Iterator[OidcServer]:
    """Start the provider on a free loopback port; stop it (by PID) afterwards."""
    _install()
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    with running(["node", "op.mjs", str(port), redirect_uri],
                 f"{issuer}/.well-known/openid-configuration", workdir / "oidc-provider.log",
                 "oidc-provider", cwd=INSTALL):
        yield OidcServer(issuer=issuer)
