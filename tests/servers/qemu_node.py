"""A qemu VM that plays a bare-metal node booting diskless, and what it boots.

Everything is built here from Debian packages (no root privileges tricks, no download
besides ``apt-get``) and cached under ``.testbed/netboot`` (ignored by git):

- the *boot files* OCX serves to every node: the host's Debian kernel
  (``linux-image-amd64``) and a small initrd: static busybox, ``nbd-client`` with its
  libraries, and the modules for the e1000 NIC, NBD and ext4. Its ``/init`` brings the
  NIC up with the address iPXE got by DHCP (``ip=``), attaches ``nbdroot=HOST:PORT/NAME``
  as ``/dev/nbd0``, mounts it and switches root to it;
- a *golden image*: an ext2 root filesystem (``mkfs.ext2 -d``, as a qcow2) whose
  ``/sbin/init`` prints ``OCX-NODE-READY image=NAME`` on the serial console, writes
  a file to its (copy-on-write) disk, and powers off.

The VM network-boots like a node with an iPXE NIC ROM (Debian ``ipxe-qemu``): qemu's
user-mode DHCP hands it ``bootfile=http://10.0.2.2:PORT/boot/chain.ipxe`` (10.0.2.2 is
the host's loopback as the guest sees it), iPXE fetches OCX's script and boots what it
says. Nothing is passed with ``-kernel``.

``QemuPower`` is a power driver for the tests only (not an entry point of OCX): its
"BMC" starts and stops that qemu process, so OCX's power cycle really boots the node.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field

from ocx.drivers.base import Driver
from ocx.drivers.power import BootDevice, PowerAction, PowerDriver, PowerState

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".testbed" / "netboot"
PACKAGES = ["qemu-system-x86", "qemu-utils", "ipxe-qemu", "busybox-static", "nbd-client",
            "linux-image-amd64", "e2fsprogs"]
MODULES = ["e1000", "nbd", "crc32c_generic", "crc16", "mbcache", "jbd2", "ext4", "virtio_ring",
           "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio_pci", "virtio_blk"]
MARKER = "OCX-NODE-READY"

INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in MODULES; do insmod /lib/modules/$m.ko; done
for arg in $(cat /proc/cmdline); do
  case $arg in ip=*) IP=${arg#ip=};; nbdroot=*) NBD=${arg#nbdroot=};;
    deploy=*) DEPLOY=${arg#deploy=};; localroot=*) LOCAL=${arg#localroot=};; esac
done
if [ -n "$LOCAL" ]; then  # booting from the local disk (after a copy-to-disk deploy)
  for i in $(seq 50); do [ -b $LOCAL ] && break; sleep 0.1; done
  echo "ocx-initrd: root $LOCAL"
  mkdir -p /newroot; mount -t ext4 $LOCAL /newroot || { echo "ocx-initrd: no root"; poweroff -f; }
  mount --move /dev /newroot/dev
  exec switch_root /newroot /sbin/init
fi
ADDR=$(echo $IP | cut -d: -f1); GW=$(echo $IP | cut -d: -f3); MASK=$(echo $IP | cut -d: -f4)
ifconfig eth0 $ADDR netmask $MASK up; route add default gw $GW
HOSTPORT=${NBD%%/*}; NAME=${NBD#*/}
echo "ocx-initrd: root nbd://$HOSTPORT/$NAME"
/sbin/nbd-client -N $NAME ${HOSTPORT%:*} ${HOSTPORT#*:} /dev/nbd0 -nonetlink
# nbd-client returns before its child has started the device: wait until it has a size.
for i in $(seq 50); do [ "$(cat /sys/block/nbd0/size)" != 0 ] && break; sleep 0.1; done
ROOT=/dev/nbd0
if [ -n "$DEPLOY" ]; then  # the classic way: copy the whole image to the local disk
  for i in 1 2 3 4 5 6 7 8 9 10; do [ -b $DEPLOY ] && break; sleep 1; done
  echo "ocx-initrd: copying the image to $DEPLOY"
  dd if=/dev/nbd0 of=$DEPLOY bs=1M || echo "ocx-initrd: copy failed"; sync
  echo "ocx-initrd: copied, rebooting into it"
  reboot -f
fi
mkdir -p /newroot; mount -t ext4 $ROOT /newroot || { echo "ocx-initrd: no root"; poweroff -f; }
mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
""".replace("MODULES", " ".join(MODULES))

ROOT_INIT = r"""#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
echo "MARKER image=$(/bin/busybox cat /etc/ocx-image)"
echo "booted $(/bin/busybox date +%s)" > /var/booted; /bin/busybox sync
/bin/busybox poweroff -f
""".replace("MARKER", MARKER)


def ensure_packages() -> None:
    """Install the Debian packages the netboot needs, if missing (one apt-get run)."""
    needed = {"qemu-system-x86_64": "qemu-system-x86", "qemu-img": "qemu-utils",
              "nbd-client": "nbd-client", "mkfs.ext2": "e2fsprogs"}
    missing = [pkg for cmd, pkg in needed.items()
               if shutil.which(cmd) is None and not Path(f"/usr/sbin/{cmd}").exists()]
    if not Path("/bin/busybox").exists() or not list(Path("/boot").glob("vmlinuz-*")):
        missing += ["busybox-static", "linux-image-amd64"]
    if not Path("/usr/lib/ipxe/qemu/efi-e1000.rom").exists():
        missing.append("ipxe-qemu")
    if missing:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends",
                        *sorted(set(missing))], check=True, env=env, capture_output=True)


def _cpio_newc(tree: Path) -> bytes:
    """``tree`` as a newc cpio archive (what the kernel unpacks as its initramfs)."""
    out = bytearray()

    def entry(name: str, mode: int, data: bytes, ino: int) -> None:
        fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name) + 1, 0]
        header = "070701" + "".join(f"{value:08x}" for value in fields)
        out.extend(header.encode() + name.encode() + b"\0")
        out.extend(b"\0" * (-len(out) % 4))
        out.extend(data)
        out.extend(b"\0" * (-len(out) % 4))

    for ino, path in enumerate(sorted(tree.rglob("*")), start=1):
        rel, st = str(path.relative_to(tree)), path.lstat()
        if path.is_symlink():
            entry(rel, st.st_mode, os.readlink(path).encode(), ino)
        elif path.is_dir():
            entry(rel, st.st_mode, b"", ino)
        else:
            entry(rel, st.st_mode, path.read_bytes(), ino)
    entry("TRAILER!!!", 0, b"", 0)
    return bytes(out)


def _copy_with_libraries(binary: str, tree: Path) -> None:
    """Copy ``binary`` and the shared libraries ``ldd`` names into ``tree``."""
    listed = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    files = [binary] + [part for line in listed.splitlines() for part in line.split()
                        if part.startswith("/")]
    for name in files:
        target = tree / name.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.realpath(name), target)


def kernel_path() -> Path:
    """The newest Debian kernel installed under /boot."""
    return sorted(Path("/boot").glob("vmlinuz-*"))[-1]


def build_initrd(target: Path) -> Path:
    """The netboot initrd (see the module docstring), built once and cached."""
    if target.exists():
        return target
    version = kernel_path().name.removeprefix("vmlinuz-")
    tree = target.parent / "initrd-tree"
    shutil.rmtree(tree, ignore_errors=True)
    for folder in ("bin", "sbin", "proc", "sys", "dev", "lib/modules"):
        (tree / folder).mkdir(parents=True, exist_ok=True)
    shutil.copy2("/bin/busybox", tree / "bin/busybox")
    _copy_with_libraries("/usr/sbin/nbd-client", tree)
    shutil.copy2(tree / "usr/sbin/nbd-client", tree / "sbin/nbd-client")
    modules = Path("/lib/modules") / version
    deps = dict(line.split(":", 1) for line in (modules / "modules.dep").read_text().splitlines())
    by_name = {Path(path).name.removesuffix(".ko"): path for path in deps}
    for module in MODULES:
        shutil.copy2(modules / by_name[module], tree / "lib/modules" / f"{module}.ko")
    (tree / "init").write_text(INIT)
    (tree / "init").chmod(0o755)
    partial = target.with_suffix(".part")
    partial.write_bytes(gzip.compress(_cpio_newc(tree), compresslevel=1))
    partial.rename(target)
    shutil.rmtree(tree)
    return target


def _version(*parts: str) -> str:
    """A short hash of what a cached artefact is built from (a change rebuilds it)."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:10]


def build_boot_files(folder: Path | None = None) -> Path:
    """The folder OCX serves as ``/boot/files/``: ``vmlinuz`` and ``initrd.img``."""
    ensure_packages()
    folder = folder or CACHE / f"boot-{_version(INIT, kernel_path().name)}"
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "vmlinuz").exists():
        shutil.copy2(kernel_path(), folder / "vmlinuz")
    build_initrd(folder / "initrd.img")
    return folder


def build_root_image(name: str, folder: Path = CACHE, size_mib: int = 64,
                     filler_mib: int = 0) -> Path:
    """A bootable golden image (qcow2 with one ext2 filesystem) printing ``name``, with
    ``filler_mib`` MiB of random data in ``/filler`` (what a real image's files weigh)."""
    target = folder / f"{name}-{_version(ROOT_INIT, str(size_mib), str(filler_mib))}.qcow2"
    if target.exists():
        return target
    ensure_packages()
    tree = target.parent / f"{target.stem}-tree"
    shutil.rmtree(tree, ignore_errors=True)
    for folder_name in ("bin", "sbin", "proc", "dev", "etc", "var"):
        (tree / folder_name).mkdir(parents=True)
    shutil.copy2("/bin/busybox", tree / "bin/busybox")
    (tree / "sbin/init").write_text(ROOT_INIT)
    (tree / "sbin/init").chmod(0o755)
    (tree / "etc/ocx-image").write_text(name)
    if filler_mib:
        with (tree / "filler").open("wb") as filler:
            for _ in range(filler_mib):
                filler.write(os.urandom(2**20))
    raw = target.with_suffix(".raw")
    subprocess.run(["mkfs.ext2", "-q", "-F", "-d", str(tree), str(raw), f"{size_mib}M"],
                   check=True, capture_output=True)
    partial = target.with_suffix(".part")
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(partial)],
                   check=True, capture_output=True)
    partial.rename(target)
    raw.unlink()
    shutil.rmtree(tree)
    return target


@dataclass(frozen=True)
class NodeVm:
    """How to start one node VM."""

    mac: str
    console: Path
    boot_url: str
    disk: Path | None = None  # a local disk (virtio: /dev/vda), for the copy-to-disk way
    reboot: bool = False  # a guest reboot restarts the VM (else qemu exits)

    def command(self) -> list[str]:
        """The qemu command line (TCG: KVM guests hang on this machine)."""
        nic = f"e1000,netdev=n0,mac={self.mac},romfile=/usr/lib/ipxe/qemu/efi-e1000.rom"
        command = ["qemu-system-x86_64", "-accel", "tcg", "-nographic", "-m", "256",
                   "-monitor", "none", "-serial", f"file:{self.console}",
                   "-netdev", f"user,id=n0,bootfile={self.boot_url}", "-device", nic]
        if not self.reboot:
            command.append("-no-reboot")
        if self.disk is not None:
            command += ["-drive", f"file={self.disk},format=qcow2,if=virtio"]
        return [*command, "-boot", "n"]


def start_vm(vm: NodeVm) -> subprocess.Popen[bytes]:
    """Start the VM (its console truncated first)."""
    vm.console.write_text("")
    return subprocess.Popen(vm.command(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def wait_for_console(console: Path, text: str, timeout_s: float) -> str:
    """The console once it shows ``text``.

    Raises:
        AssertionError: not within ``timeout_s`` (the console's tail is in the message).
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        seen = console.read_text(errors="replace") if console.exists() else ""
        if text in seen:
            return seen
        if "reboot: Power down" in seen:  # the VM stopped without showing it
            break
        time.sleep(0.2)
    seen = console.read_text(errors="replace") if console.exists() else ""
    raise AssertionError(f"{text!r} not on the console (waited up to {timeout_s}s):\n"
                         f"{seen[-3000:]}")


# The VMs the test BMCs started, by folder: kept so that each process is waited for.
_VMS: dict[Path, subprocess.Popen[bytes]] = {}


def stop_all_vms() -> None:
    """Kill every VM a test BMC started (test teardown)."""
    for folder in list(_VMS):
        _stop(folder)


def _stop(folder: Path) -> None:
    vm = _VMS.pop(folder, None)
    if vm is not None and vm.poll() is None:
        os.killpg(vm.pid, signal.SIGKILL)
    if vm is not None:
        vm.wait(10)


class QemuPower(PowerDriver):
    """A test-only BMC: power on starts the node's qemu VM, power off kills it."""

    class Settings(Driver.Settings):
        folder: Path = Field(description="the VM's console log and boot device")
        mac: str
        boot_url: str

    settings: Settings

    def power_state(self) -> PowerState:
        """On while the VM's process runs."""
        vm = _VMS.get(self.settings.folder)
        return PowerState.ON if vm is not None and vm.poll() is None else PowerState.OFF

    def set_power(self, action: PowerAction) -> PowerState:
        """Start, kill, or kill-then-start the VM."""
        if action is not PowerAction.ON:
            _stop(self.settings.folder)
        if action is not PowerAction.OFF and self.power_state() is PowerState.OFF:
            self.settings.folder.mkdir(parents=True, exist_ok=True)
            _VMS[self.settings.folder] = start_vm(NodeVm(
                mac=self.settings.mac, console=self.settings.folder / "console.log",
                boot_url=self.settings.boot_url))
        return self.power_state()

    def set_boot_device(self, device: BootDevice, persistent: bool = True) -> None:
        """Remember the boot device (the VM always boots from its NIC)."""
        self.settings.folder.mkdir(parents=True, exist_ok=True)
        (self.settings.folder / "boot-device").write_text(device.value)

    def boot_device(self) -> BootDevice | None:
        """The remembered boot device."""
        try:
            return BootDevice((self.settings.folder / "boot-device").read_text())
        except (OSError, ValueError):
            return None
