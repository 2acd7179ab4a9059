"""Notifications POSTed as JSON to a URL (a chat bridge, a ticket system, a mailer service).

Each request carries ``Idempotency-Key`` so the receiver can drop duplicates, and, when a
secret is set, ``X-OCX-Signature: sha256=<hex HMAC of the body>`` so it can check origin.
The URL is a secret too: chat webhooks embed their credentials in it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import asdict

import httpx
from pydantic import Field, SecretStr, field_validator

from ocx.drivers.base import Driver
from ocx.drivers.notifier.base import Notification, Notifier
from ocx.errors import DriverError, PermanentDriverError

SIGNATURE_HEADER = "X-OCX-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


class WebhookNotifier(Notifier):
    """POSTs each notification to one URL."""

    class Settings(Driver.Settings):
        url: SecretStr = Field(description="http(s) URL; kept secret, never logged")
        secret: SecretStr | None = Field(default=None, description="HMAC-SHA256 signing key")
        timeout_s: float = Field(default=10.0, gt=0, le=300)

        @field_validator("url")
        @classmethod
        def _http_url(cls, value: SecretStr) -> SecretStr:
            try:
                url = httpx.URL(value.get_secret_value())
            except httpx.InvalidURL as exc:
                raise ValueError("not a valid URL") from exc
            if url.scheme not in ("http", "https") or not url.host:
                raise ValueError("must be an http:// or https:// URL with a host")
            return value

    settings: Settings

    def send(self, notification: Notification) -> None:
        """POST ``notification`` (see :meth:`Notifier.send` for what it raises)."""
        body = json.dumps(asdict(notification), sort_keys=True).encode()
        url = self.settings.url.get_secret_value()
        where = f"webhook at {httpx.URL(url).host}"
        try:
            response = httpx.post(url, content=body, headers=self._headers(notification, body),
                                  timeout=self.settings.timeout_s)
        except httpx.TimeoutException as exc:
            raise DriverError(f"{where} timed out after {self.settings.timeout_s}s") from exc
        except httpx.HTTPError as exc:
            raise DriverError(f"{where} unreachable: {type(exc).__name__}") from exc
        _check(where, response)

    def _headers(self, notification: Notification, body: bytes) -> dict[str, str]:
        headers = {"Content-Type": "application/json",
                   IDEMPOTENCY_HEADER: notification.idempotency_key}
        if self.settings.secret is not None:
            headers[SIGNATURE_HEADER] = sign(self.settings.secret.get_secret_value(), body)
        return headers


def sign(secret: str, body: bytes) -> str:
    """The signature header value for ``body``: ``sha256=<hex HMAC>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _check(where: str, response: httpx.Response) -> None:
    """2xx is delivered; 5xx and 429 may pass later; any other answer will not."""
    status = response.status_code
    if 200 <= status < 300:
        return
    message = f"{where} answered {status} {response.reason_phrase}"
    if status >= 500 or status in (408, 429):
        raise DriverError(message)
    raise PermanentDriverError(message)
