"""The IPMI driver's pure parts: its settings, and which BMC answers are worth a retry."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from pyghmi.exceptions import IpmiException  # type: ignore[import-untyped]

from ocx.drivers.power.ipmi import IpmiPower
from ocx.errors import PermanentDriverError


def _driver(**changes: object) -> IpmiPower:
    settings = {"host": "bmc-7.example.org", "username": "ocx", "password": "pw", **changes}
    return IpmiPower(IpmiPower.Settings.model_validate(settings))


def test_settings_follow_ipmi_limits_and_keep_the_password_secret() -> None:
    driver = _driver()
    assert (driver.settings.port, driver.settings.privilege) == (623, "administrator")
    assert "pw" not in repr(driver.settings)
    for bad in ({"password": "x" * 21}, {"username": "u" * 17}, {"host": "a b"},
                {"port": 0}, {"privilege": "root"}, {"kg": "x"}):
        with pytest.raises(ValidationError):
            _driver(**bad)


@pytest.mark.parametrize(("reason", "permanent", "says"), [
    ("Incorrect password provided", True, "refused the node's credentials"),
    ("Unauthorized name in RAKP2", True, "refused the node's credentials"),
    ("Unauthorized role or privilege level requested", True, "refused the node's credentials"),
    ("No Cipher suite match with proposed security algorithms", True, "refused the session"),
    (None, False, "is unreachable: no answer"),
    ("timeout", False, "is unreachable"),
    ("Insufficient resources to create new session (wait for existing sessions to timeout)",
     False, "is unreachable"),
])
def test_login_refusals_are_permanent_and_silence_is_not(reason: str | None, permanent: bool,
                                                         says: str) -> None:
    error = _driver()._login_error(IpmiException(reason))
    assert isinstance(error, PermanentDriverError) is permanent
    assert says in error.message
    assert "bmc-7.example.org" not in error.message  # lessees read it: no address


@pytest.mark.parametrize(("code", "permanent"), [
    (0xC1, True), (0xCC, True), (0xD4, True), (0xC0, False), (0xC3, False), (0xFFFF, False),
    (0, False)])
def test_completion_codes(code: int, permanent: bool) -> None:
    error = _driver()._command_error(IpmiException("the BMC said no", code))
    assert isinstance(error, PermanentDriverError) is permanent
    if permanent:
        assert f"completion code {code:#04x}" in error.message
