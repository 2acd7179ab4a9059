"""The notifier interface: tell a person something (e-mail, webhook, or the fake's spool)."""

from ocx.drivers.notifier.base import Notification, Notifier

__all__ = ["Notification", "Notifier"]
