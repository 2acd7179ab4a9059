"""Provisioning: copy-on-write clones vs full copies, and diskless boot vs copy-to-disk.

1. Clone time against image size: a golden image of 1, 4 and 16 GiB (sparse qcow2 with
   64 MiB of data), cloned by OCX's qcow2 backend (``qemu-img create -b``), against a
   full copy to a fully written raw disk (``qemu-img convert -S 0``: what writing an
   image to a node's disk costs). Goal: clone time flat (O(1)).
2. 1..N qemu nodes (TCG) reaching boot-ready (their init's marker on the serial console),
   all N at once, two ways, in the same run:
   - diskless (OCX): clone the golden image, export the clone with qemu-nbd, the node
     network-boots through iPXE (NIC ROM, DHCP boot file) with OCX's boot script and
     mounts the export as its root;
   - copy-to-local-disk (a classic provisioner, like Ironic's direct deploy): the node
     network-boots the same kernel and initrd as a deploy ramdisk, copies the whole
     golden image over the network (NBD) to its local disk (virtio), reboots, and boots
     from that disk (the same kernel, standing in for a local boot loader, with its root
     on the disk).
   Goal: diskless >= 2x faster.

Run from the repository root as root: ``PYTHONPATH=. .venv/bin/python bench/provision.py
[--sizes 1,4,16] [--nodes 2] [--filler-mib 384]``. Artefacts are cached under
``.testbed/netboot`` (see tests/servers/qemu_node.py); scratch files go to a temporary
folder that is removed at the end.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.servers.qemu_node import (
    MARKER,
    NodeVm,
    build_boot_files,
    build_root_image,
    start_vm,
    wait_for_console,
)

from ocx.domain.images import boot
from ocx.drivers.export import SourceFormat
from ocx.drivers.export.nbd import QemuNbdExporter
from ocx.drivers.image import ImageRef
from ocx.drivers.image.qcow2 import Qcow2Backend

BOOT_TIMEOUT_S = 900.0


def run(*command: str) -> None:
    """Run a command; raise with its output if it fails."""
    subprocess.run(command, check=True, capture_output=True)


# --- 1. clone vs full copy ------------------------------------------------------------------

def golden_of(backend: Qcow2Backend, scratch: Path, size_gib: int) -> ImageRef:
    """A sparse golden image of ``size_gib`` GiB with 64 MiB of data spread over it."""
    raw = scratch / f"golden-{size_gib}.raw"
    run("qemu-img", "create", "-q", "-f", "raw", str(raw), f"{size_gib}G")
    with raw.open("r+b") as disk:
        for chunk in range(64):
            disk.seek(chunk * (size_gib * 2**30 // 64))
            disk.write(bytes([chunk % 251 + 1]) * 2**20)
    golden = backend.import_image(f"golden-{size_gib}", raw)
    raw.unlink()
    return golden


def clone_times(backend: Qcow2Backend, golden: ImageRef, count: int = 5) -> list[float]:
    """Seconds each of ``count`` clones of ``golden`` took (each removed afterwards)."""
    times = []
    for n in range(count):
        start = time.perf_counter()
        clone = backend.clone(golden, f"clone-{n}")
        times.append(time.perf_counter() - start)
        backend.delete(clone)
    return times


def full_copy_time(backend: Qcow2Backend, golden: ImageRef, target: Path) -> float:
    """Seconds a full copy of ``golden`` to a fully written raw disk took."""
    start = time.perf_counter()
    run("qemu-img", "convert", "-S", "0", "-f", "qcow2", "-O", "raw",
        backend.export_uri(golden), str(target))
    elapsed = time.perf_counter() - start
    target.unlink()
    return elapsed


def clone_vs_copy(scratch: Path, sizes_gib: list[int]) -> None:
    """Print clone and full-copy times for each golden image size."""
    backend = Qcow2Backend(Qcow2Backend.Settings(directory=scratch / "store"))
    print("clone (qcow2 overlay) vs full copy (qemu-img convert -S 0 to raw), median of 5 "
          "clones, 1 copy:")
    for size in sizes_gib:
        golden = golden_of(backend, scratch, size)
        clone_ms = statistics.median(clone_times(backend, golden)) * 1000
        full = full_copy_time(backend, golden, scratch / "copy.raw")
        backend.delete(golden)
        print(f"  {size:3d} GiB   clone {clone_ms:8.1f} ms   full copy {full:8.2f} s   "
              f"ratio {full * 1000 / clone_ms:8.0f} x")


# --- 2. diskless vs copy-to-local-disk ------------------------------------------------------

class Scripts(BaseHTTPRequestHandler):
    """Serves OCX's chain script, per-MAC scripts and the boot files (what /boot serves)."""

    # Each path's scripts in turn, the last one for good (a deploy, then local boots).
    scripts: dict[str, list[bytes]] = {}
    files: Path = Path()

    def do_GET(self) -> None:
        """One file or script, or 404."""
        if self.path.startswith("/boot/files/"):
            path = self.files / self.path.rsplit("/", 1)[1]
            body = path.read_bytes() if path.is_file() else None
        else:
            turns = self.scripts.get(self.path, [])
            body = (turns.pop(0) if len(turns) > 1 else turns[0]) if turns else None
        self.send_response(200 if body is not None else 404)
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args: object) -> None:
        """Quiet."""


def boot_nodes(scratch: Path, http_port: int, golden: ImageRef, backend: Qcow2Backend,
               exporter: QemuNbdExporter, count: int, diskless: bool) -> float:
    """Seconds until ``count`` nodes, started together, all show the marker."""
    base = f"http://10.0.2.2:{http_port}/"
    consoles, vms = [], []
    start = time.perf_counter()
    shared = None if diskless else exporter.export(
        "golden", backend.export_uri(golden), SourceFormat.QCOW2)
    for n in range(count):
        mac = f"52:54:00:bb:00:{n:02x}"
        if diskless:
            clone = backend.clone(golden, f"node-{n}")
            export = exporter.export(f"node-{n}", backend.export_uri(clone), SourceFormat.QCOW2)
            script = boot.render_script(base, export.uri, "console=ttyS0 quiet")
        else:
            assert shared is not None
            disk = scratch / f"local-{n}.qcow2"
            run("qemu-img", "create", "-q", "-f", "qcow2", str(disk),
                str(backend.size(golden)))
            script = boot.render_script(base, shared.uri, "console=ttyS0 quiet deploy=/dev/vda")
            # After the copy the node reboots into its disk: the same kernel (a local
            # boot loader's job), its root on the disk.
            local = boot.render_script(base, shared.uri, "console=ttyS0 quiet localroot=/dev/vda")
        Scripts.scripts[f"/boot/{mac.replace(':', '-')}.ipxe"] = (
            [script.encode()] if diskless else [script.encode(), local.encode()])
        console = scratch / f"console-{n}.log"
        vm = NodeVm(mac=mac, console=console, boot_url=f"{base}boot/chain.ipxe",
                    disk=None if diskless else scratch / f"local-{n}.qcow2",
                    reboot=not diskless)
        vms.append(start_vm(vm))
        consoles.append(console)
    try:
        for console in consoles:
            wait_for_console(console, MARKER, BOOT_TIMEOUT_S)
        return time.perf_counter() - start
    finally:
        for process in vms:
            process.kill()
            process.wait()
        for export in exporter.list_exports():
            exporter.unexport(export.name)
        for n in range(count):
            backend.delete(ImageRef(f"node-{n}.qcow2"))
            (scratch / f"local-{n}.qcow2").unlink(missing_ok=True)


def diskless_vs_copy(scratch: Path, nodes: int, filler_mib: int) -> None:
    """Print boot-ready times of 1..nodes nodes, both ways, and their ratio."""
    files = build_boot_files()
    image = build_root_image("bench", size_mib=filler_mib + 128, filler_mib=filler_mib)
    backend = Qcow2Backend(Qcow2Backend.Settings(directory=scratch / "store"))
    golden = backend.import_image("golden-boot", image)
    exporter = QemuNbdExporter(QemuNbdExporter.Settings(
        state_dir=scratch / "exports", port_min=41800, port_max=41899, advertise="10.0.2.2",
        max_clients=max(nodes, 2)))
    Scripts.files = files
    server = ThreadingHTTPServer(("127.0.0.1", 0), Scripts)
    port = server.server_address[1]
    Scripts.scripts["/boot/chain.ipxe"] = [
        boot.chain_script(f"http://10.0.2.2:{port}/").encode()]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    size_mib = backend.size(golden) // 2**20
    print(f"\nnodes reaching boot-ready (qemu TCG, iPXE NIC ROM), golden image {size_mib} MiB "
          f"({filler_mib} MiB of files), all nodes started at once:")
    try:
        for count in range(1, nodes + 1):
            diskless = boot_nodes(scratch, port, golden, backend, exporter, count, True)
            copied = boot_nodes(scratch, port, golden, backend, exporter, count, False)
            print(f"  {count} node(s)   diskless {diskless:7.1f} s   copy-to-disk {copied:7.1f} s"
                  f"   ratio {copied / diskless:5.2f} x  (goal: >= 2x)")
    finally:
        server.shutdown()


def main() -> None:
    """Parse the options and run both benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,4,16", help="golden image sizes in GiB")
    parser.add_argument("--nodes", type=int, default=2, help="boot 1..N nodes at once")
    parser.add_argument("--filler-mib", type=int, default=1024,
                        help="MiB of files in the bootable golden image")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ocx-bench-", dir="/var/tmp") as folder:
        scratch = Path(folder)
        clone_vs_copy(scratch, [int(size) for size in args.sizes.split(",")])
        diskless_vs_copy(scratch, args.nodes, args.filler_mib)


if __name__ == "__main__":
    main()
