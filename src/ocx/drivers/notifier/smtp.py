"""E-mail notifications through an SMTP server (smtplib).

The Message-ID is derived from the idempotency key, so a message sent twice after a
worker crash carries the same id and mail clients show it once.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from pydantic import Field, SecretStr, model_validator

from ocx.drivers.base import Driver
from ocx.drivers.notifier.base import Notification, Notifier
from ocx.errors import DriverError, PermanentDriverError


class SmtpNotifier(Notifier):
    """Sends each notification as one e-mail."""

    class Settings(Driver.Settings):
        host: str = Field(min_length=1)
        port: int = Field(default=587, ge=1, le=65535)
        starttls: bool = Field(default=True, description="upgrade to TLS before logging in")
        username: str | None = None
        password: SecretStr | None = None
        from_address: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
        timeout_s: float = Field(default=10.0, gt=0, le=300)

        @model_validator(mode="after")
        def _password_with_username(self) -> SmtpNotifier.Settings:
            if self.username and self.password is None:
                raise ValueError("a username needs a password")
            return self

    settings: Settings

    def send(self, notification: Notification) -> None:
        """Send ``notification`` as an e-mail (see :meth:`Notifier.send` for what it raises)."""
        message = self._message(notification)
        settings = self.settings
        where = f"SMTP server {settings.host}:{settings.port}"
        try:
            with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s) as smtp:
                if settings.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if settings.username and settings.password:
                    smtp.login(settings.username, settings.password.get_secret_value())
                smtp.send_message(message)
        except smtplib.SMTPResponseException as exc:
            raise _refused(where, exc.smtp_code, exc.smtp_error) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise _refused(where, code, text) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise PermanentDriverError(f"{where} does not support {exc}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DriverError(f"{where} unreachable: {exc}") from exc

    def _message(self, notification: Notification) -> EmailMessage:
        message = EmailMessage()
        domain = self.settings.from_address.rpartition("@")[2]
        message["From"] = self.settings.from_address
        message["To"] = notification.recipient
        message["Subject"] = notification.subject
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = f"<{notification.key_digest}@{domain}>"
        message.set_content(notification.body)
        return message


def _refused(where: str, code: int, text: bytes | str) -> DriverError:
    """SMTP 5xx replies are final; 4xx (and anything else) may pass on a later try."""
    reason = text.decode(errors="replace") if isinstance(text, bytes) else text
    message = f"{where} refused the message: {code} {reason}"
    return PermanentDriverError(message) if 500 <= code < 600 else DriverError(message)
