"""Serving images over NBD with ``qemu-nbd``: one daemon per export, each on its own port.

``qemu-nbd --fork`` returns only once its child has opened the image and bound the
socket, so a missing or corrupt image, or a taken port, is an error of ``export``
itself and nothing is left serving. The daemons outlive the OCX process that started
them (a node keeps its root disk while OCX restarts); each one is remembered in
``state_dir`` as ``NAME.json`` (port, source) and ``NAME.pid``, which is how a later
call finds it, checks that it still runs, and stops it.

RBD images are read through qemu's rbd block driver (Debian ``qemu-block-extra``); a
qemu without it refuses ``rbd:`` sources, and ``export`` says so.

NBD has no authentication: whoever reaches ``bind``:PORT and knows the export name
reads and writes the disk. Bind it to the provisioning network only (see
docs/images.md, "What the network learns").
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

from pydantic import Field

from ocx.drivers.base import Driver
from ocx.drivers.export.base import Export, Exporter, SourceFormat
from ocx.errors import DriverError, PermanentDriverError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0
# A killed daemon's /proc entry loses its command line before the kernel closes its
# sockets, so its port can look taken for a moment after it looks dead.
PORT_RELEASE_S = 2.0


def rbd_supported(qemu_img: str = "qemu-img") -> bool:
    """Whether this qemu can open ``rbd:`` images (its rbd block module is installed)."""
    try:
        found = subprocess.run([qemu_img, "--help"], capture_output=True, text=True,  # noqa: S603
                               timeout=10, check=False)
    except OSError:
        return False
    formats = found.stdout.partition("Supported formats:")[2].split()
    return "rbd" in formats


def _running(pid: int, name: str) -> bool:
    """Whether ``pid`` is still the qemu-nbd serving ``name`` (not a reused pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(arg.endswith(b"qemu-nbd") for arg in cmdline[:1]) and name.encode() in cmdline


def _port_free(address: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET) as probe:
        # As qemu-nbd binds: connections of an earlier server still in TIME_WAIT do not
        # make the port taken, a listening server does.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


def _port_released(address: str, port: int) -> bool:
    """Whether ``port`` is free, or frees within :data:`PORT_RELEASE_S` (a dying daemon's)."""
    deadline = time.monotonic() + PORT_RELEASE_S
    while not _port_free(address, port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


class QemuNbdExporter(Exporter):
    """Exports images with qemu-nbd daemons, one per export."""

    class Settings(Driver.Settings):
        state_dir: Path = Field(default=Path("var") / "exports",
                                description="where the pid and record of each export live")
        bind: str = Field(default="127.0.0.1", max_length=100,
                          description="address qemu-nbd listens on (the provisioning network)")
        advertise: str | None = Field(
            default=None, max_length=100,
            description="address nodes connect to, if not bind (NAT, qemu user networking)")
        port_min: int = Field(default=10809, ge=1, le=65535)
        port_max: int = Field(default=10908, ge=1, le=65535)
        max_clients: int = Field(default=2, ge=1, le=64,
                                 description="connections at once (a reboot reconnects)")
        qemu_nbd: str = Field(default="qemu-nbd", max_length=200)

    settings: Settings

    def _files(self, name: str) -> tuple[Path, Path]:
        if not NAME.match(name):
            raise PermanentDriverError(f"invalid export name {name!r}")
        base = self.settings.state_dir / name
        return base.with_suffix(".json"), base.with_suffix(".pid")

    def _record(self, name: str) -> tuple[Export | None, str]:
        """The export remembered as ``name`` (pid filled in only if it runs), and its format."""
        record, pid_file = self._files(name)
        try:
            data = json.loads(record.read_text())
        except (OSError, ValueError):
            return None, ""
        try:
            pid: int | None = int(pid_file.read_text().strip())
        except (OSError, ValueError):
            pid = None
        alive = pid is not None and _running(pid, name)
        return Export(name=name, host=data["host"], port=data["port"], source=data["source"],
                      pid=pid if alive else None), data.get("format", "")

    def _free_port(self, taken: set[int]) -> int:
        for port in range(self.settings.port_min, self.settings.port_max + 1):
            if port not in taken and _port_free(self.settings.bind, port):
                return port
        raise DriverError(f"no free NBD port in {self.settings.port_min}-"
                          f"{self.settings.port_max} on {self.settings.bind}")

    def _command(self, name: str, source: str, source_format: SourceFormat, port: int,
                 pid_file: Path) -> list[str]:
        image_format = "qcow2" if source_format is SourceFormat.QCOW2 else "raw"
        return [self.settings.qemu_nbd, "--bind", self.settings.bind, "--port", str(port),
                "-f", image_format, "-x", name, "--persistent", "--fork",
                "--shared", str(self.settings.max_clients), "--cache=writeback",
                "--pid-file", str(pid_file), source]

    def _check_source(self, source: str, source_format: SourceFormat) -> None:
        if source_format is SourceFormat.RBD:
            if not source.startswith("rbd:"):
                raise PermanentDriverError(f"an RBD source is rbd:pool/image, not {source!r}")
            if not rbd_supported():
                raise PermanentDriverError(
                    "this qemu has no rbd block driver (install qemu-block-extra); "
                    "RBD images cannot be exported with qemu-nbd here")
        elif not Path(source).is_file():
            raise PermanentDriverError(f"image file {source} does not exist")

    def _start(self, name: str, source: str, source_format: SourceFormat,
               port: int) -> Export:
        record, pid_file = self._files(name)
        pid_file.unlink(missing_ok=True)
        try:
            ran = subprocess.run(  # noqa: S603 (an argument list: no shell, names checked)
                self._command(name, source, source_format, port, pid_file),
                capture_output=True, text=True, timeout=START_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DriverError(f"qemu-nbd did not start: {exc}") from exc
        if ran.returncode != 0:
            reason = (ran.stderr or ran.stdout).strip() or f"exit status {ran.returncode}"
            if "Address already in use" in reason:
                raise DriverError(f"NBD port {port} was taken meanwhile: {reason}")
            raise PermanentDriverError(f"qemu-nbd cannot export {source}: {reason}")
        host = self.settings.advertise or self.settings.bind
        record.write_text(json.dumps({"host": host, "port": port, "source": source,
                                      "format": source_format.value}))
        found, _ = self._record(name)
        if found is None or found.pid is None:
            raise DriverError(f"qemu-nbd for {name} exited right after starting")
        return found

    def export(self, name: str, source: str, source_format: SourceFormat) -> Export:
        """Serve ``source`` as ``name`` (see :meth:`Exporter.export`)."""
        self.settings.state_dir.mkdir(parents=True, exist_ok=True)
        existing, _ = self._record(name)
        if existing is not None and existing.source != source:
            raise PermanentDriverError(f"export {name} already serves {existing.source}")
        if existing is not None and existing.pid is not None:
            return existing
        self._check_source(source, source_format)
        taken = {e.port for e in self.list_exports()}
        if existing is not None and _port_released(self.settings.bind, existing.port):
            return self._start(name, source, source_format, existing.port)
        return self._start(name, source, source_format, self._free_port(taken))

    def unexport(self, name: str) -> None:
        """Stop the daemon serving ``name`` and forget it (see :meth:`Exporter.unexport`)."""
        record, pid_file = self._files(name)
        existing, _ = self._record(name)
        if existing is not None and existing.pid is not None:
            os.kill(existing.pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT_S
            while _running(existing.pid, name):
                if time.monotonic() > deadline:
                    os.kill(existing.pid, signal.SIGKILL)
                    time.sleep(0.1)
                    if _running(existing.pid, name):
                        raise DriverError(f"qemu-nbd {existing.pid} serving {name} did not stop")
                    break
                time.sleep(0.05)
        record.unlink(missing_ok=True)
        pid_file.unlink(missing_ok=True)

    def inspect(self, name: str) -> Export | None:
        """The live export ``name``, or None."""
        found, _ = self._record(name)
        return found if found is not None and found.pid is not None else None

    def list_exports(self) -> list[Export]:
        """Every live export this exporter started, by name."""
        if not self.settings.state_dir.is_dir():
            return []
        names = sorted(path.stem for path in self.settings.state_dir.glob("*.json"))
        return [found for name in names if (found := self.inspect(name)) is not None]
