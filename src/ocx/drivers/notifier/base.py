"""The ``Notifier`` interface and the message it sends."""

from __future__ import annotations

import abc
import hashlib
from dataclasses import dataclass

from ocx.drivers.base import Driver


@dataclass(frozen=True)
class Notification:
    """One message to one person; ``idempotency_key`` is the same on every retry."""

    recipient: str
    subject: str
    body: str
    idempotency_key: str

    @property
    def key_digest(self) -> str:
        """A short, file- and header-safe digest of the idempotency key."""
        return hashlib.sha256(self.idempotency_key.encode()).hexdigest()[:40]


class Notifier(Driver, abc.ABC):
    """Delivers notifications. Entry-point group: ``ocx.drivers.notifier``."""

    interface = "notifier"

    @abc.abstractmethod
    def send(self, notification: Notification) -> None:
        """Deliver ``notification``; sending the same idempotency key again must be harmless.

        Implementations pass the key on (a header, a Message-ID) so that the receiving
        side can drop duplicates, because a worker may crash after delivering and
        before recording that it did.

        Raises:
            DriverError: a temporary failure (unreachable, timeout, busy); retried later.
            PermanentDriverError: refused for good (bad address, bad settings); not retried.
        """
