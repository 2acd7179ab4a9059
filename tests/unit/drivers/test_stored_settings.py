"""A stored secret never follows changed settings unless it is entered again."""

from __future__ import annotations

from typing import Any

import pytest

from ocx.drivers import stored_settings
from ocx.drivers.power.base import PowerDriver
from ocx.drivers.registry import DriverRegistry
from ocx.errors import InvalidInput
from ocx.persistence.sealed import MASK, Sealer, is_sealed

Stored = tuple[DriverRegistry, Sealer, dict[str, Any]]
SETTINGS = {"address": "https://bmc-1.example.org", "system_id": "node-1",
            "username": "root", "password": "calvin"}


@pytest.fixture
def stored() -> Stored:
    registry, sealer = DriverRegistry(allow_fakes=True), Sealer("k" * 32)
    return registry, sealer, stored_settings.validated(registry, sealer, PowerDriver,
                                                       "redfish", SETTINGS)


def test_a_new_address_with_the_kept_password_is_refused(stored: Stored) -> None:
    registry, sealer, row = stored
    for changes in ({"address": "https://attacker.example.org"},
                    {"address": "https://attacker.example.org", "password": MASK}):
        with pytest.raises(InvalidInput, match="changing address needs password sent again"):
            stored_settings.updated(registry, sealer, PowerDriver, "redfish", row, changes)


def test_a_new_address_with_the_password_entered_again_is_kept(stored: Stored) -> None:
    registry, sealer, row = stored
    moved = stored_settings.updated(registry, sealer, PowerDriver, "redfish", row,
                                    {"address": "https://bmc-2.example.org",
                                     "password": "calvin"})
    assert moved["address"].startswith("https://bmc-2.example.org")
    assert is_sealed(moved["password"])


def test_the_same_address_written_differently_keeps_the_password(stored: Stored) -> None:
    registry, sealer, row = stored
    same = stored_settings.updated(registry, sealer, PowerDriver, "redfish", row,
                                   {"address": "https://bmc-1.example.org/", "password": MASK})
    opened = stored_settings.build(registry, sealer, PowerDriver, "redfish", same)
    assert opened.settings.model_dump()["password"].get_secret_value() == "calvin"


def test_turning_tls_checks_off_needs_the_password_too(stored: Stored) -> None:
    registry, sealer, row = stored
    with pytest.raises(InvalidInput, match="verify_ca needs password"):
        stored_settings.updated(registry, sealer, PowerDriver, "redfish", row,
                                {"verify_ca": False})


def test_settings_that_do_not_move_the_secret_keep_it(stored: Stored) -> None:
    registry, sealer, row = stored
    slower = stored_settings.updated(registry, sealer, PowerDriver, "redfish", row,
                                     {"timeout_s": 90})
    assert slower["timeout_s"] == 90
    opened = stored_settings.build(registry, sealer, PowerDriver, "redfish", slower)
    assert opened.settings.model_dump()["password"].get_secret_value() == "calvin"
