"""Driver discovery through entry points, and settings validation errors."""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import EntryPoint

import pytest

from ocx.drivers.notifier import Notifier
from ocx.drivers.notifier.fake import FakeNotifier
from ocx.drivers.notifier.smtp import SmtpNotifier
from ocx.drivers.notifier.webhook import WebhookNotifier
from ocx.drivers.registry import DriverRegistry, entry_point_group
from ocx.errors import InvalidInput


def _source(*points: tuple[str, str]) -> DriverRegistry:
    def entry_points(group: str) -> Iterable[EntryPoint]:
        return [EntryPoint(name, value, group) for name, value in points]

    return DriverRegistry(entry_points)


def test_installed_notifiers_are_discovered() -> None:
    registry = DriverRegistry()
    assert registry.names(Notifier) == ["fake", "smtp", "webhook"]
    assert registry.driver_class(Notifier, "fake") is FakeNotifier
    assert registry.driver_class(Notifier, "smtp") is SmtpNotifier
    assert registry.driver_class(Notifier, "webhook") is WebhookNotifier
    assert entry_point_group(Notifier) == "ocx.drivers.notifier"


def test_create_builds_a_driver_from_json_settings() -> None:
    notifier = DriverRegistry().create(Notifier, "fake", {"delay_s": 0.5})
    assert isinstance(notifier, FakeNotifier)
    assert notifier.settings.delay_s == 0.5


def test_unknown_driver_names_what_is_installed() -> None:
    with pytest.raises(InvalidInput, match=r"unknown notifier driver 'carrier-pigeon'; "
                                           r"installed: fake, smtp, webhook"):
        DriverRegistry().create(Notifier, "carrier-pigeon", {})


def test_unknown_driver_with_nothing_installed() -> None:
    with pytest.raises(InvalidInput, match="installed: none"):
        _source().driver_class(Notifier, "fake")


def test_entry_point_that_does_not_load() -> None:
    registry = _source(("broken", "ocx.drivers.notifier.nonexistent:Nope"))
    with pytest.raises(InvalidInput, match=r"'broken' .* cannot be loaded"):
        registry.driver_class(Notifier, "broken")


def test_entry_point_that_is_not_a_notifier() -> None:
    registry = _source(("registry", "ocx.drivers.registry:DriverRegistry"))
    with pytest.raises(InvalidInput, match="is not a Notifier"):
        registry.driver_class(Notifier, "registry")


def test_invalid_settings_name_each_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        DriverRegistry().create(Notifier, "smtp", {"port": "not-a-port", "colour": "blue"})
    message = caught.value.message
    assert message.startswith("invalid settings for notifier driver 'smtp': ")
    assert "host: Field required" in message
    assert "port: Input should be a valid integer" in message
    assert "colour: Extra inputs are not permitted" in message


def test_invalid_settings_never_echo_secret_values() -> None:
    secret = "hunter2-very-secret"
    with pytest.raises(InvalidInput) as caught:
        DriverRegistry().create(Notifier, "webhook", {"url": f"ftp://{secret}@example.org/",
                                                      "secret": 42})
    assert secret not in caught.value.message
    assert "url: Value error, must be an http:// or https:// URL" in caught.value.message


def test_smtp_username_needs_a_password() -> None:
    with pytest.raises(InvalidInput, match="a username needs a password"):
        DriverRegistry().create(Notifier, "smtp", {"host": "mail.example.org",
                                                   "from_address": "ocx@example.org",
                                                   "username": "ocx"})


def test_secret_settings_are_masked_in_repr() -> None:
    notifier = DriverRegistry().create(Notifier, "smtp", {
        "host": "mail.example.org", "from_address": "ocx@example.org", "username": "ocx",
        "password": "hunter2"})
    assert "hunter2" not in repr(notifier.settings)
    assert "hunter2" not in str(notifier.settings.model_dump())


def test_a_driver_refuses_another_drivers_settings() -> None:
    with pytest.raises(TypeError, match="SmtpNotifier takes its own Settings"):
        SmtpNotifier(FakeNotifier.Settings())


def test_fakes_are_refused_where_not_allowed() -> None:
    production = DriverRegistry(allow_fakes=False)
    with pytest.raises(InvalidInput, match="development and tests only"):
        production.create(Notifier, "fake", {})
    assert production.driver_class(Notifier, "smtp").__name__ == "SmtpNotifier"


def test_fakes_follow_the_environment() -> None:
    from ocx.config import Environment, Settings

    secret = "a-production-secret-key-0123"
    url = "https://ocx.example.org"
    assert not Settings(environment=Environment.PRODUCTION, secret_key=secret,
                        public_url=url).allow_fake_drivers
    assert Settings(environment=Environment.PRODUCTION, secret_key=secret, public_url=url,
                    fake_drivers=True).allow_fake_drivers
    assert Settings().allow_fake_drivers
