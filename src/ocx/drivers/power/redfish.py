"""Redfish BMCs through ``sushy``, the library Ironic uses.

A node's settings name the BMC (``address``), the system on it (``system_id``: an id
under ``/redfish/v1/Systems/`` or the full path) and the credentials; the password is
sealed at rest and reaches this driver only in a worker. sushy's own retries are off (one attempt):
the operations journal retries with backoff, and a dead BMC must fail the operation in
bounded time (``timeout_s``) rather than hang a worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import sushy  # type: ignore[import-untyped]
from pydantic import AnyHttpUrl, Field, SecretStr
from sushy import exceptions as sushy_errors

from ocx.drivers.base import Driver
from ocx.drivers.power.base import BootDevice, PowerAction, PowerDriver, PowerState
from ocx.errors import DriverError, PermanentDriverError

SYSTEMS = "/redfish/v1/Systems/"
POWER_STATES = {
    sushy.PowerState.ON: PowerState.ON, sushy.PowerState.POWERING_ON: PowerState.ON,
    sushy.PowerState.OFF: PowerState.OFF, sushy.PowerState.POWERING_OFF: PowerState.OFF,
}
BOOT_TARGETS = {BootDevice.PXE: sushy.BootSource.PXE, BootDevice.DISK: sushy.BootSource.HDD}


class RedfishPower(PowerDriver):
    """One system on a Redfish BMC."""

    class Settings(Driver.Settings):
        secret_destination: ClassVar[frozenset[str] | None] = frozenset(
            {"address", "verify_ca"})

        address: AnyHttpUrl = Field(description="the BMC: https://bmc.example.org[:port]")
        system_id: str = Field(min_length=1, max_length=300, pattern=r"^[A-Za-z0-9/_.:-]+$",
                               description="the system's id, or its full path")
        username: str = Field(min_length=1, max_length=100)
        password: SecretStr = Field(max_length=500, description="sealed at rest")
        verify_ca: bool = Field(default=True, description="check the BMC's TLS certificate")
        timeout_s: float = Field(default=30.0, gt=0, le=300)

    settings: Settings

    @property
    def _system_path(self) -> str:
        system_id = self.settings.system_id
        return system_id if system_id.startswith("/") else SYSTEMS + system_id

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """sushy's exceptions as OCX's: unreachable/5xx retried, refusals permanent."""
        # Errors reach the lessee (operation and node): they name no address, account
        # or system path, which only the node's owner may see in its settings.
        where = "the Redfish BMC"
        try:
            yield
        except sushy_errors.AccessError as exc:
            raise PermanentDriverError(f"{where} refused the node's credentials "
                                       f"(HTTP {exc.status_code})") from exc
        except sushy_errors.ResourceNotFoundError as exc:
            raise PermanentDriverError(f"{where} has no such system (the node's "
                                       f"system_id)") from exc
        except sushy_errors.ServerSideError as exc:
            raise DriverError(f"{where} failed (HTTP {exc.status_code}): {exc.detail}") \
                from exc
        except sushy_errors.HTTPError as exc:
            raise PermanentDriverError(f"{where} refused (HTTP {exc.status_code}): "
                                       f"{exc.detail}") from exc
        except sushy_errors.ConnectionError as exc:
            raise DriverError(f"{where} is unreachable: {_reason(exc)}") from exc
        except sushy_errors.SushyError as exc:
            raise PermanentDriverError(f"{where} answered something unexpected: "
                                       f"{type(exc).__name__}") from exc

    def _system(self) -> Any:
        settings = self.settings
        root = sushy.Sushy(
            str(settings.address).rstrip("/") + "/redfish/v1", username=settings.username,
            password=settings.password.get_secret_value(), verify=settings.verify_ca,
            server_side_retries=1, server_side_retries_delay=1, read_timeout=settings.timeout_s,
            connect_timeout=settings.timeout_s)
        return root.get_system(self._system_path)

    def power_state(self) -> PowerState:
        """The system's power state (see :meth:`PowerDriver.power_state`)."""
        with self._errors():
            return _state(self._system())

    def set_power(self, action: PowerAction) -> PowerState:
        """Power on, off, or cycle (see :meth:`PowerDriver.set_power`)."""
        with self._errors():
            system = self._system()
            now = _state(system)
            wanted = PowerState.OFF if action is PowerAction.OFF else PowerState.ON
            if action is PowerAction.CYCLE and now is PowerState.ON:
                system.reset_system(sushy.ResetType.FORCE_RESTART)
            elif now is not wanted:
                system.reset_system(sushy.ResetType.ON if wanted is PowerState.ON
                                    else sushy.ResetType.FORCE_OFF)
            return wanted

    def set_boot_device(self, device: BootDevice, persistent: bool = True) -> None:
        """Set the boot source override (see :meth:`PowerDriver.set_boot_device`)."""
        enabled = (sushy.BootSourceOverrideEnabled.CONTINUOUS if persistent
                   else sushy.BootSourceOverrideEnabled.ONCE)
        with self._errors():
            self._system().set_system_boot_options(target=BOOT_TARGETS[device],
                                                   enabled=enabled)

    def boot_device(self) -> BootDevice | None:
        """The boot source override target, if it is PXE or disk."""
        with self._errors():
            target = self._system().boot.target
        return next((device for device, source in BOOT_TARGETS.items() if source == target),
                    None)


def _state(system: Any) -> PowerState:
    try:
        return POWER_STATES[system.power_state]
    except KeyError:
        raise DriverError(f"the system is in power state {system.power_state}; "
                          "try again later") from None


def _reason(exc: Exception) -> str:
    """The innermost cause of a connection error (refused, timed out, name unknown)."""
    cause: BaseException = exc
    for _ in range(20):  # exception chains are short; never loop on a strange one
        inner = cause.__cause__ or cause.__context__
        if inner is None:
            break
        cause = inner
    text = str(cause)
    for marker in ("Connection refused", "timed out", "Name or service not known",
                   "No route to host", "Network is unreachable"):
        if marker in text:
            return marker.lower()
    return type(cause).__name__
