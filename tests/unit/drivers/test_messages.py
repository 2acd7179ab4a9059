"""What the real notifiers put on the wire, built without opening a socket."""

from __future__ import annotations

import hashlib
import hmac

from ocx.drivers.notifier import Notification
from ocx.drivers.notifier.smtp import SmtpNotifier
from ocx.drivers.notifier.webhook import WebhookNotifier, sign

NOTE = Notification(recipient="ada@example.org", subject="Added", body="Welcome",
                    idempotency_key="notify.member_added:1")


def test_smtp_message_id_comes_from_the_idempotency_key() -> None:
    smtp = SmtpNotifier(SmtpNotifier.Settings(host="mail.example.org",
                                              from_address="ocx@cloud.example.org"))
    message = smtp._message(NOTE)
    assert message["Message-ID"] == f"<{NOTE.key_digest}@cloud.example.org>"
    assert message["To"] == "ada@example.org"
    assert message["From"] == "ocx@cloud.example.org"
    assert message.get_content().strip() == "Welcome"
    assert smtp._message(NOTE)["Message-ID"] == message["Message-ID"]


def test_webhook_headers_carry_key_and_signature() -> None:
    webhook = WebhookNotifier(WebhookNotifier.Settings.model_validate(
        {"url": "https://hooks.example.org/x", "secret": "s3cret"}))
    headers = webhook._headers(NOTE, b'{"a": 1}')
    assert headers["Idempotency-Key"] == NOTE.idempotency_key
    expected = hmac.new(b"s3cret", b'{"a": 1}', hashlib.sha256).hexdigest()
    assert headers["X-OCX-Signature"] == f"sha256={expected}" == sign("s3cret", b'{"a": 1}')


def test_webhook_without_secret_is_unsigned() -> None:
    webhook = WebhookNotifier(WebhookNotifier.Settings.model_validate(
        {"url": "http://127.0.0.1:9/hook"}))
    assert "X-OCX-Signature" not in webhook._headers(NOTE, b"{}")
