"""The contract every notifier keeps, run against the fake and each real driver."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from ocx.drivers.notifier import Notification, Notifier
from ocx.drivers.notifier.fake import FakeNotifier
from ocx.drivers.notifier.smtp import SmtpNotifier
from ocx.drivers.notifier.webhook import WebhookNotifier
from ocx.errors import DriverError, PermanentDriverError
from tests.integration.drivers.conftest import SmtpServer, WebhookServer, free_port


@dataclass
class Subject:
    """A notifier, what reached the other side (recipient, subject, dedup marker), and a
    notifier of the same kind whose outside system is down."""

    notifier: Notifier
    delivered: Callable[[], list[tuple[str, str, str]]]
    down: Notifier


def _fake(request: pytest.FixtureRequest) -> Subject:
    fake = FakeNotifier(FakeNotifier.Settings())
    return Subject(fake, lambda: [(n.recipient, n.subject, n.idempotency_key)
                                  for n in fake.delivered.values()],
                   FakeNotifier(FakeNotifier.Settings(fail="temporary")))


def _smtp(request: pytest.FixtureRequest) -> Subject:
    server: SmtpServer = request.getfixturevalue("smtp_server")

    def smtp(port: int) -> SmtpNotifier:
        return SmtpNotifier(SmtpNotifier.Settings(host="127.0.0.1", port=port, starttls=False,
                                                  from_address="ocx@example.org", timeout_s=5))

    return Subject(smtp(server.port), lambda: [(m["To"], m["Subject"], m["Message-ID"])
                                              for m in server.messages], smtp(free_port()))


def _webhook(request: pytest.FixtureRequest) -> Subject:
    server: WebhookServer = request.getfixturevalue("webhook_server")

    def webhook(url: str) -> WebhookNotifier:
        return WebhookNotifier(WebhookNotifier.Settings.model_validate({"url": url}))

    def delivered() -> list[tuple[str, str, str]]:
        return [(r.json()["recipient"], r.json()["subject"], r.headers["Idempotency-Key"])
                for r in server.requests]

    return Subject(webhook(server.url), delivered,
                   webhook(f"http://127.0.0.1:{free_port()}/hook"))


@pytest.fixture(params=[_fake, _smtp, _webhook], ids=["fake", "smtp", "webhook"])
def subject(request: pytest.FixtureRequest) -> Subject:
    """One notifier implementation with its receiving side."""
    build: Callable[[pytest.FixtureRequest], Subject] = request.param
    return build(request)


def _note(key: str) -> Notification:
    return Notification(recipient="ada@example.org", subject=f"About {key}", body="Hello.",
                        idempotency_key=key)


def test_delivers_to_the_recipient(subject: Subject) -> None:
    subject.notifier.send(_note("k-1"))
    ((recipient, title, _),) = subject.delivered()
    assert (recipient, title) == ("ada@example.org", "About k-1")


def test_sending_a_key_again_is_harmless_and_recognisable(subject: Subject) -> None:
    subject.notifier.send(_note("k-1"))
    subject.notifier.send(_note("k-1"))
    subject.notifier.send(_note("k-2"))
    markers = [marker for _, title, marker in subject.delivered() if title == "About k-1"]
    others = [marker for _, title, marker in subject.delivered() if title == "About k-2"]
    assert len(set(markers)) == 1  # the receiver can drop the duplicate
    assert others and set(others).isdisjoint(markers)


def test_an_outside_system_that_is_down_is_a_temporary_error(subject: Subject) -> None:
    with pytest.raises(DriverError) as caught:
        subject.down.send(_note("k-1"))
    assert not isinstance(caught.value, PermanentDriverError)
