"""What the client raises; ``str()`` of each is a message fit to show a person."""

from __future__ import annotations


class ClientError(Exception):
    """Base of every error the OCX client raises."""


class ApiError(ClientError):
    """The API answered with an error status (``{"error": {"type", "message"}}``)."""

    def __init__(self, status: int, type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.type = type
        self.message = message

    def __repr__(self) -> str:
        return f"ApiError({self.status}, {self.type!r}, {self.message!r})"


class ServerUnreachable(ClientError):
    """No answer from the server: refused, unresolvable, timed out, or cut off."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot reach OCX at {url}: {reason}")
        self.url = url
        self.reason = reason


class UnexpectedResponse(ClientError):
    """A success status whose body is not what this client expects (wrong server or version)."""
