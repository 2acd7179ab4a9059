"""Domain errors. Each carries its HTTP status and a stable type; the API maps them in one place."""

from __future__ import annotations

from typing import ClassVar


class OcxError(Exception):
    """Base of every error a user may see; ``message`` is safe to show them."""

    status: ClassVar[int] = 400
    type: ClassVar[str] = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(OcxError):
    """The request is well-formed but its values break a rule."""

    status = 422
    type = "invalid_input"


class Unauthenticated(OcxError):
    """No valid credentials were presented."""

    status = 401
    type = "unauthenticated"


class Forbidden(OcxError):
    """The actor is known but may not do this."""

    status = 403
    type = "forbidden"


class NotFound(OcxError):
    """The target does not exist, or the actor may not know it exists."""

    status = 404
    type = "not_found"


class Conflict(OcxError):
    """The request clashes with the current state (duplicate name, resource in use...)."""

    status = 409
    type = "conflict"


class DriverError(OcxError):
    """An outside system refused or failed a call; workers retry these."""

    status = 502
    type = "driver_error"


class PermanentDriverError(DriverError):
    """An outside system failed in a way that retrying cannot fix (bad settings, refused)."""

    type = "driver_error_permanent"
