"""IPMI BMCs over the LAN (IPMI 2.0, RMCP+) through ``pyghmi``.

A node's settings name the BMC (``host``, ``port``) and the credentials; the password is
sealed at rest and reaches this driver only in a worker. Every call opens one session,
sends raw chassis commands (so that the BMC's completion code decides whether a refusal
is temporary) and logs out. pyghmi gives up on a silent BMC after about five seconds of
its own retries; the operations journal retries with backoff after that. (pyghmi shares
one session among callers with the same BMC and credentials in a process; the per-node
lock means one operation per BMC at a time, and a session closed under another caller
is a temporary error.)

``cycle`` of a node that is on is a hard reset (chassis control 3), as Redfish's
``ForceRestart`` and pyghmi's ``boot``: the node never reads as off in between. The boot
device is read from the boot flags' device selector whether or not the BMC still marks
the flags valid, as Ironic's ipmitool driver reads it: many BMCs (and OpenIPMI's
``ipmi_sim``) clear or never set that bit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr
from pyghmi import exceptions as ipmi_errors  # type: ignore[import-untyped]
from pyghmi.ipmi import command as ipmi_command  # type: ignore[import-untyped]

from ocx.drivers.base import Driver
from ocx.drivers.power.base import BootDevice, PowerAction, PowerDriver, PowerState
from ocx.errors import DriverError, PermanentDriverError

CHASSIS = 0x00
GET_CHASSIS_STATUS, CHASSIS_CONTROL = 0x01, 0x02
SET_BOOT_OPTIONS, GET_BOOT_OPTIONS = 0x08, 0x09
CONTROL = {PowerAction.OFF: 0x00, PowerAction.ON: 0x01, PowerAction.CYCLE: 0x03}
BOOT_FLAGS, BOOT_FLAG_VALID_BIT_CLEARING = 5, 3
# Boot device selectors (IPMI 2.0, table 28-14, data 2 bits 5:2).
SELECTORS = {BootDevice.PXE: 0x1, BootDevice.DISK: 0x2}
PRIVILEGES = {"user": 2, "operator": 3, "administrator": 4}
# Completion codes worth retrying: node busy, timeout, out of space, and pyghmi's timeout.
TEMPORARY_CODES = frozenset({0xC0, 0xC3, 0xC4, 0xFFFF})
# Login refusals that mean the name, password or privilege is wrong, not the network.
CREDENTIAL_REFUSALS = ("password", "unauthorized name", "invalid username", "invalid role",
                       "unauthorized role", "privilege")


class IpmiPower(PowerDriver):
    """One node's IPMI BMC, over RMCP+ (UDP)."""

    class Settings(Driver.Settings):
        secret_destination: ClassVar[frozenset[str] | None] = frozenset({"host", "port"})

        host: str = Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.:_-]+$",
                          description="the BMC's address or host name")
        port: int = Field(default=623, ge=1, le=65535)
        username: str = Field(min_length=1, max_length=16)
        password: SecretStr = Field(max_length=20, description="sealed at rest")
        privilege: Literal["user", "operator", "administrator"] = Field(
            default="administrator",
            description="the session's privilege level: power control needs operator")

    settings: Settings

    @property
    def _where(self) -> str:
        # Errors reach the lessee (operation and node): no address or account in them.
        return "the IPMI BMC"

    @contextmanager
    def _session(self) -> Iterator[Any]:
        """A logged-in pyghmi command object; errors as OCX's, the session closed after."""
        settings = self.settings
        try:
            # Bytes, not str: pyghmi 1.6 keys its session table by the encoded credentials,
            # and with str ones a second session to the same BMC waits forever.
            bmc = ipmi_command.Command(
                bmc=settings.host, port=settings.port, userid=settings.username.encode(),
                password=settings.password.get_secret_value().encode(),
                privlevel=PRIVILEGES[settings.privilege], keepalive=False)
        except ipmi_errors.IpmiException as exc:
            raise self._login_error(exc) from None
        except OSError as exc:
            raise DriverError(f"{self._where} is unreachable: "
                              f"{exc.strerror or type(exc).__name__}") from None
        try:
            yield bmc
        except ipmi_errors.IpmiException as exc:
            raise self._command_error(exc) from None
        finally:
            with suppress(ipmi_errors.IpmiException, OSError):
                bmc.ipmi_session.logout()  # if this fails, the BMC forgets idle sessions itself

    def _login_error(self, exc: Exception) -> DriverError:
        reason = str(exc.args[0]) if exc.args and exc.args[0] else ""
        if any(refusal in reason.lower() for refusal in CREDENTIAL_REFUSALS):
            return PermanentDriverError(f"{self._where} refused the node's credentials "
                                        f"({reason})")
        if not reason or reason in ("timeout", "Session failed to initialize") \
                or "resources" in reason.lower():
            return DriverError(f"{self._where} is unreachable: "
                               f"{reason or 'no answer to the session request'}")
        return PermanentDriverError(f"{self._where} refused the session: {reason}")

    def _command_error(self, exc: ipmi_errors.IpmiException) -> DriverError:
        code = getattr(exc, "ipmicode", 0)
        reason = str(exc.args[0]) if exc.args and exc.args[0] else "no answer"
        if code in TEMPORARY_CODES or not code:
            return DriverError(f"{self._where} failed: {reason}")
        return PermanentDriverError(f"{self._where} refused (completion code {code:#04x}): "
                                    f"{reason}")

    def _powered(self, bmc: Any) -> PowerState:
        data = bytes(bmc.xraw_command(netfn=CHASSIS, command=GET_CHASSIS_STATUS)["data"])
        if not data:
            raise DriverError(f"{self._where} sent an empty chassis status")
        return PowerState.ON if data[0] & 0x01 else PowerState.OFF

    def power_state(self) -> PowerState:
        """Whether the chassis is powered (see :meth:`PowerDriver.power_state`)."""
        with self._session() as bmc:
            return self._powered(bmc)

    def set_power(self, action: PowerAction) -> PowerState:
        """Power on, off, or cycle (see :meth:`PowerDriver.set_power`)."""
        wanted = PowerState.OFF if action is PowerAction.OFF else PowerState.ON
        with self._session() as bmc:
            now = self._powered(bmc)
            if action is PowerAction.CYCLE and now is PowerState.ON:
                bmc.xraw_command(netfn=CHASSIS, command=CHASSIS_CONTROL,
                                 data=[CONTROL[PowerAction.CYCLE]])
            elif now is not wanted:
                bmc.xraw_command(netfn=CHASSIS, command=CHASSIS_CONTROL,
                                 data=[CONTROL[PowerAction(wanted.value)]])
        return wanted

    def set_boot_device(self, device: BootDevice, persistent: bool = True) -> None:
        """Set the boot flags (see :meth:`PowerDriver.set_boot_device`)."""
        flags = 0x80 | (0x40 if persistent else 0)  # valid, and persistent or next boot only
        with self._session() as bmc:
            # Keep the flags past the BMC's 60-second timeout, as ipmitool and pyghmi do.
            bmc.xraw_command(netfn=CHASSIS, command=SET_BOOT_OPTIONS,
                             data=[BOOT_FLAG_VALID_BIT_CLEARING, 0x08])
            bmc.xraw_command(netfn=CHASSIS, command=SET_BOOT_OPTIONS,
                             data=[BOOT_FLAGS, flags, SELECTORS[device] << 2, 0, 0, 0])

    def boot_device(self) -> BootDevice | None:
        """The boot flags' device selector, if it is PXE or disk."""
        with self._session() as bmc:
            answer = bmc.xraw_command(netfn=CHASSIS, command=GET_BOOT_OPTIONS,
                                      data=[BOOT_FLAGS, 0, 0])
        data = bytes(answer["data"])
        if len(data) < 4:
            raise DriverError(f"{self._where} sent short boot flags: {data.hex()}")
        selector = (data[3] >> 2) & 0x0F
        return next((device for device, value in SELECTORS.items() if value == selector),
                    None)
