"""Open vSwitch through ``ovs-vsctl``: every batch is one OVSDB transaction.

A port's VLANs are columns of its ``Port`` row: ``tag`` (the untagged VLAN),
``trunks`` (tagged VLANs) and ``vlan_mode``. One ``ovs-vsctl`` call with many
``-- set port ...`` commands is a single transaction, so a batch is applied whole or
not at all, and ``ovs-vsctl`` returns only once ``ovs-vswitchd`` runs with it.

An isolated port sits in ``isolation_vlan`` (4095 by default, outside every VLAN pool)
with ``protected=true``: Open vSwitch forwards nothing between protected ports, so
isolated ports cannot reach each other either, and no other port is in that VLAN.
(A port with neither ``tag`` nor ``trunks`` would be a trunk of *every* VLAN, which is
why "no VLAN" is never written as empty columns.)
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from typing import Any

from pydantic import Field

from ocx.drivers.base import Driver
from ocx.drivers.switch.base import PortConfig, SwitchDriver
from ocx.errors import DriverError, PermanentDriverError

COLUMNS = "name,tag,trunks,vlan_mode,protected"
# ovs-vsctl's messages that mean "the switch (database) cannot be reached right now".
UNREACHABLE = ("database connection failed", "connection refused", "no such file",
               "timed out", "alarm", "connection reset")


class OvsSwitch(SwitchDriver):
    """One Open vSwitch bridge, reached through its OVSDB server."""

    class Settings(Driver.Settings):
        db: str = Field(pattern=r"^(unix:|tcp:|ssl:)\S+$", max_length=500,
                        description="OVSDB address: unix:/run/openvswitch/db.sock, "
                                    "tcp:HOST:6640")
        bridge: str = Field(min_length=1, max_length=15, pattern=r"^[A-Za-z0-9_.-]+$",
                            description="the bridge whose ports nodes are cabled to")
        isolation_vlan: int = Field(default=4095, ge=1, le=4095,
                                    description="parking VLAN of isolated (protected) ports")
        timeout_s: float = Field(default=10.0, gt=0, le=120)
        # Whoever registers a switch chooses this, and the worker runs it: only a program
        # called ovs-vsctl (on the PATH, or by an absolute path) is accepted.
        ovs_vsctl: str = Field(default="ovs-vsctl", max_length=500,
                               pattern=r"^(/[A-Za-z0-9_.+-]+)*/?ovs-vsctl$",
                               description="the ovs-vsctl program: ovs-vsctl, or its path")

    settings: Settings

    def apply(self, configs: Sequence[PortConfig]) -> None:
        """Set every port in one transaction (see :meth:`SwitchDriver.apply`)."""
        if not configs:
            return
        commands: list[str] = []
        for config in configs:
            commands += ["--", "set", "port", config.port, *self._columns(config)]
        self._run(commands)

    def read_port(self, port: str) -> PortConfig:
        """The port's VLANs as the OVSDB has them (see :meth:`SwitchDriver.read_port`)."""
        out = self._run(["--format=json", f"--columns={COLUMNS}", "list", "port", port])
        try:
            table = json.loads(out)
            row = dict(zip(table["headings"], table["data"][0], strict=True))
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise DriverError(f"ovs-vsctl answered something unexpected for port {port}") \
                from exc
        tag, trunks = _ints(row["tag"]), _ints(row["trunks"])
        if row["protected"] is True and tag == [self.settings.isolation_vlan]:
            return PortConfig(port)
        try:
            return PortConfig(port, access_vlan=tag[0] if tag else None,
                              trunk_vlans=frozenset(trunks))
        except ValueError as exc:  # e.g. the parking VLAN on an unprotected port
            raise PermanentDriverError(f"port {port} is in a state OCX does not set: {exc}") \
                from exc

    def _columns(self, config: PortConfig) -> list[str]:
        if config.isolated:
            return [f"tag={self.settings.isolation_vlan}", "trunks=[]", "vlan_mode=access",
                    "protected=true"]
        trunks = ",".join(str(vlan) for vlan in sorted(config.trunk_vlans))
        if config.access_vlan is not None and trunks:
            mode = "native-untagged"
        else:
            mode = "access" if config.access_vlan is not None else "trunk"
        tag = str(config.access_vlan) if config.access_vlan is not None else "[]"
        return [f"tag={tag}", f"trunks=[{trunks}]", f"vlan_mode={mode}", "protected=false"]

    def _run(self, args: list[str]) -> str:
        program = shutil.which(self.settings.ovs_vsctl)
        if program is None:
            raise PermanentDriverError(f"{self.settings.ovs_vsctl} is not installed here")
        timeout = self.settings.timeout_s
        argv = [program, f"--db={self.settings.db}", f"--timeout={max(int(timeout), 1)}",
                *args]
        try:
            # No shell; port names and settings are validated (patterns) before they get here.
            done = subprocess.run(argv, capture_output=True, text=True,  # noqa: S603
                                  timeout=timeout + 5, check=False)
        except subprocess.TimeoutExpired as exc:
            raise DriverError(f"Open vSwitch at {self.settings.db} did not answer within "
                              f"{timeout:g}s") from exc
        if done.returncode != 0:
            message = (done.stderr.strip() or f"exit status {done.returncode}").splitlines()[-1]
            if any(marker in message.lower() for marker in UNREACHABLE):
                raise DriverError(f"Open vSwitch at {self.settings.db}: {message}")
            raise PermanentDriverError(f"Open vSwitch refused: {message}")
        return done.stdout


def _ints(value: Any) -> list[int]:
    """An OVSDB JSON value (an integer, or ``["set", [...]]``) as a list of integers."""
    if isinstance(value, int):
        return [value]
    if isinstance(value, list) and len(value) == 2 and value[0] == "set":
        return [int(item) for item in value[1]]
    raise DriverError(f"unexpected OVSDB value {value!r}")
