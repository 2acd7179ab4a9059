"""The webhook notifier against a real HTTP server on loopback."""

from __future__ import annotations

import pytest

from ocx.drivers.notifier import Notification
from ocx.drivers.notifier.webhook import WebhookNotifier, sign
from ocx.errors import DriverError, PermanentDriverError
from tests.integration.drivers.conftest import WebhookServer, free_port

NOTE = Notification(recipient="ada@example.org", subject="Added", body="Welcome.",
                    idempotency_key="notify.member_added:2")


def _webhook(url: str, **overrides: object) -> WebhookNotifier:
    settings = {"url": url, "timeout_s": 2, **overrides}
    return WebhookNotifier(WebhookNotifier.Settings.model_validate(settings))


def test_posts_json_with_the_idempotency_key_and_a_signature(
        webhook_server: WebhookServer) -> None:
    _webhook(webhook_server.url, secret="hook-secret").send(NOTE)
    (request,) = webhook_server.requests
    assert request.json() == {"recipient": "ada@example.org", "subject": "Added",
                              "body": "Welcome.", "idempotency_key": NOTE.idempotency_key}
    assert request.headers["Idempotency-Key"] == NOTE.idempotency_key
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-OCX-Signature"] == sign("hook-secret", request.body)


@pytest.mark.parametrize("status", [500, 502, 503, 429, 408])
def test_server_errors_are_retried(webhook_server: WebhookServer, status: int) -> None:
    webhook_server.replies.append((status, 0.0))
    with pytest.raises(DriverError, match=f"answered {status}") as caught:
        _webhook(webhook_server.url).send(NOTE)
    assert not isinstance(caught.value, PermanentDriverError)


@pytest.mark.parametrize("status", [400, 401, 404, 410, 301])
def test_client_errors_are_permanent(webhook_server: WebhookServer, status: int) -> None:
    webhook_server.replies.append((status, 0.0))
    with pytest.raises(PermanentDriverError, match=f"answered {status}"):
        _webhook(webhook_server.url).send(NOTE)


def test_a_timeout_is_retried(webhook_server: WebhookServer) -> None:
    webhook_server.replies.append((200, 1.0))
    with pytest.raises(DriverError, match=r"timed out after 0\.3s") as caught:
        _webhook(webhook_server.url, timeout_s=0.3).send(NOTE)
    assert not isinstance(caught.value, PermanentDriverError)


def test_retry_after_failure_delivers_with_the_same_key(webhook_server: WebhookServer) -> None:
    webhook_server.replies.append((503, 0.0))
    webhook = _webhook(webhook_server.url)
    with pytest.raises(DriverError):
        webhook.send(NOTE)
    webhook.send(NOTE)
    keys = [r.headers["Idempotency-Key"] for r in webhook_server.requests]
    assert keys == [NOTE.idempotency_key] * 2


def test_errors_never_show_the_secret_url() -> None:
    url = f"http://127.0.0.1:{free_port()}/hooks/T000/B000/very-secret-path"
    with pytest.raises(DriverError) as caught:
        _webhook(url).send(NOTE)
    assert "very-secret-path" not in caught.value.message
    assert "127.0.0.1" in caught.value.message
    assert "very-secret-path" not in repr(_webhook(url).settings)
