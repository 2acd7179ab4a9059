"""ASGI middleware: a request id on every request, response and log line."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ocx.api.errors import error_response
from ocx.logging import request_id_var

log = logging.getLogger("ocx.access")
log_error = logging.getLogger("ocx.api")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class NulGuardMiddleware:
    """Refuses NUL characters in the path or query string with a 400, before any handler.

    No OCX name or filter can hold one, and PostgreSQL cannot store them in text.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and ("\x00" in scope["path"]
                                        or b"%00" in scope.get("query_string", b"")
                                        or b"\x00" in scope.get("query_string", b"")):
            response = error_response(400, "bad_request",
                                      "NUL characters are not allowed in URLs")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class RequestIdMiddleware:
    """Takes a sane incoming ``X-Request-ID`` or makes one; echoes it on the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        status_sent = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, status_sent
            if message["type"] == "http.response.start":
                status, status_sent = message["status"], True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"],
                                      (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # Answer here, inside the request id's scope, so that the 500 carries the id
            # and the traceback is logged with it; Starlette's outer handler would not.
            log_error.error("unhandled error on %s %s", scope["method"], scope["path"],
                            exc_info=exc)
            if status_sent:
                raise
            status = 500
            response = error_response(500, "internal", "internal error; quote request id "
                                      f"{request_id} when reporting it")
            await response(scope, receive, send_with_id)
        finally:
            log.info("%s %s %s %.1fms", scope["method"], scope["path"], status,
                     (time.perf_counter() - started) * 1000)
            request_id_var.reset(token)
