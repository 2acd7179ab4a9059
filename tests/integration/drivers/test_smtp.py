"""The SMTP notifier against a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import pytest

from ocx.drivers.notifier import Notification
from ocx.drivers.notifier.smtp import SmtpNotifier
from ocx.errors import DriverError, PermanentDriverError
from tests.integration.drivers.conftest import SMTP_PASSWORD, SMTP_USER, SmtpServer, free_port

NOTE = Notification(recipient="ada@example.org", subject="You were added to org-a/proj-a",
                    body="Welcome aboard.", idempotency_key="notify.member_added:1")


def _smtp(port: int, **overrides: object) -> SmtpNotifier:
    settings = {"host": "127.0.0.1", "port": port, "starttls": False,
                "from_address": "ocx@cloud.example.org", "timeout_s": 5, **overrides}
    return SmtpNotifier(SmtpNotifier.Settings.model_validate(settings))


def test_delivers_an_email_with_a_stable_message_id(smtp_server: SmtpServer) -> None:
    notifier = _smtp(smtp_server.port)
    notifier.send(NOTE)
    notifier.send(NOTE)  # a retry after a crash: same Message-ID, the client dedups
    first, second = smtp_server.messages
    assert first["To"] == "ada@example.org"
    assert first["From"] == "ocx@cloud.example.org"
    assert first["Subject"] == NOTE.subject
    assert first.get_content().strip() == "Welcome aboard."
    assert first["Message-ID"] == second["Message-ID"] == f"<{NOTE.key_digest}@cloud.example.org>"


def test_logs_in_with_the_secret_password(smtp_server: SmtpServer) -> None:
    _smtp(smtp_server.port, username=SMTP_USER, password=SMTP_PASSWORD).send(NOTE)
    assert smtp_server.logins == [SMTP_USER]
    assert len(smtp_server.messages) == 1


def test_wrong_password_is_permanent_and_not_echoed(smtp_server: SmtpServer) -> None:
    with pytest.raises(PermanentDriverError, match="535") as caught:
        _smtp(smtp_server.port, username=SMTP_USER, password="wrong-password-xyz").send(NOTE)
    assert "wrong-password-xyz" not in caught.value.message


def test_a_refused_recipient_is_permanent(smtp_server: SmtpServer) -> None:
    smtp_server.rcpt_reply = "550 5.1.1 no such mailbox"
    with pytest.raises(PermanentDriverError, match=r"550 5\.1\.1 no such mailbox"):
        _smtp(smtp_server.port).send(NOTE)


def test_a_busy_server_is_retried(smtp_server: SmtpServer) -> None:
    smtp_server.rcpt_reply = "451 4.3.0 try again later"
    with pytest.raises(DriverError, match="451") as caught:
        _smtp(smtp_server.port).send(NOTE)
    assert not isinstance(caught.value, PermanentDriverError)


def test_starttls_on_a_server_without_it_is_permanent(smtp_server: SmtpServer) -> None:
    with pytest.raises(PermanentDriverError, match="does not support"):
        _smtp(smtp_server.port, starttls=True).send(NOTE)


def test_an_unreachable_server_is_retried() -> None:
    with pytest.raises(DriverError, match="unreachable") as caught:
        _smtp(free_port()).send(NOTE)
    assert not isinstance(caught.value, PermanentDriverError)
