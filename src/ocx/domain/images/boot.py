"""What a node fetches while it network-boots: its iPXE script and the boot files.

PXE clients cannot authenticate, so these answers are public. The script for a MAC
address is served only while that NIC's node is mapped to an exported clone, and says
nothing but how to boot it: the kernel and initrd (the same files for every node) and
the NBD export of the node's root disk. An unknown MAC, a node without an image and a
malformed address all get the same 404 script, so the answers tell a prober only
whether a MAC is booting an image now. Whoever knows the MAC of a mapped node learns
its export and can read and write its disk: NBD has no authentication, so the
provisioning network must be isolated (docs/images.md, "What the network learns").

Boot chain: the DHCP server's boot file is ``/boot/chain.ipxe``; iPXE runs it and
fetches ``/boot/<MAC>.ipxe``, which loads ``/boot/files/vmlinuz`` and ``initrd.img``
with ``ip=`` (the address iPXE got) and ``nbdroot=HOST:PORT/NAME``; the initrd attaches
the export as ``/dev/nbd0`` and boots from it. iPXE itself has no NBD client
(``sanboot nbd:`` does not exist), hence the kernel-and-initrd hop.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from ocx.config import Settings
from ocx.domain.baremetal.models import Nic
from ocx.domain.images.models import NodeImage
from ocx.domain.images.states import NodeImageState
from ocx.drivers.export import Exporter
from ocx.drivers.registry import DriverRegistry
from ocx.errors import NotFound

MAC = re.compile(r"^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$")
FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
# While provisioning, the node is power-cycled once its export is recorded: it boots
# before the mapping is marked active.
BOOTABLE = (NodeImageState.PROVISIONING, NodeImageState.ACTIVE)
NO_IMAGE = "#!ipxe\necho OCX: no image is mapped to this machine\nexit 1\n"
# iPXE expands ${netX/...} (the NIC it booted from) before running each line.
CHAIN = "#!ipxe\nchain ${base}boot/$${netX/mac:hexhyp}.ipxe\n"
IP_ARG = "ip=${netX/ip}::${netX/gateway}:${netX/netmask}"


def build_exporter(drivers: DriverRegistry, settings: Settings) -> Exporter:
    """The configured exporter (``OCX_EXPORT_DRIVER``, ``OCX_EXPORT_SETTINGS``).

    Raises:
        InvalidInput: unknown exporter or invalid settings.
    """
    return drivers.create(Exporter, settings.export_driver, settings.export_settings)


def normalized_mac(text: str) -> str | None:
    """``text`` as ``aa:bb:cc:dd:ee:ff`` (iPXE sends ``aa-bb-...``); None if it is none."""
    mac = text.strip().lower()
    return mac.replace("-", ":") if MAC.match(mac) else None


def nbd_root(export_uri: str) -> str:
    """``nbd://HOST:PORT/NAME`` as the initrd's ``HOST:PORT/NAME``."""
    parts = urlsplit(export_uri)
    return f"{parts.hostname}:{parts.port}{parts.path}"


def chain_script(base_url: str) -> str:
    """The first script every node runs: fetch its own script by MAC address."""
    return CHAIN.replace("${base}", base_url).replace("$$", "$")


def node_script(session: Session, settings: Settings, base_url: str, mac_text: str) -> str:
    """The boot script of the node with NIC ``mac_text``.

    Raises:
        NotFound: the MAC is malformed or unknown, or its node boots no exported clone
            (one answer for all three).
    """
    mac = normalized_mac(mac_text)
    export_uri = None if mac is None else session.scalar(
        select(NodeImage.export_uri).join(Nic, Nic.node_id == NodeImage.node_id)
        .where(Nic.mac == mac, NodeImage.state.in_(BOOTABLE)))
    if export_uri is None:
        raise NotFound("no image is mapped to this machine")
    return render_script(base_url, export_uri, settings.boot_kernel_args)


def render_script(base_url: str, export_uri: str, kernel_args: str = "") -> str:
    """The iPXE script booting OCX's kernel and initrd with ``export_uri`` as the root."""
    files = f"{base_url}boot/files"
    args = f"initrd=initrd.img {IP_ARG} nbdroot={nbd_root(export_uri)} {kernel_args}"
    return (f"#!ipxe\nkernel {files}/vmlinuz {args.strip()}\n"
            f"initrd {files}/initrd.img\nboot\n")


def boot_file(settings: Settings, name: str) -> Path:
    """A file of the boot folder (kernel, initrd) by its plain name.

    Raises:
        NotFound: no such file (names with slashes or leading dots never match).
    """
    if not FILE_NAME.match(name):
        raise NotFound("no such boot file")
    path = settings.boot_files_dir / name
    if not path.is_file():
        raise NotFound("no such boot file")
    return path
