"""Every error becomes ``{"error": {"type", "message"}}``; this is the one place that maps them."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ocx.errors import OcxError
from ocx.logging import request_id_var

log = logging.getLogger(__name__)

HTTP_TYPES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "too_large",
              415: "unsupported_media_type", 422: "invalid_input", 429: "too_many_requests"}


class ErrorDetail(BaseModel):
    """What went wrong, for people and programs."""

    type: str
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": kind.replace("_", " ")}
    for code, kind in HTTP_TYPES.items() if code in (400, 401, 403, 404, 409, 422)
}


def error_response(status: int, kind: str, message: str,
                   details: list[dict[str, Any]] | None = None,
                   headers: Mapping[str, str] | None = None) -> JSONResponse:
    """A JSON error response in OCX's one shape."""
    body: dict[str, Any] = {"type": kind, "message": message}
    if details:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc if part not in ("body",)) or "body"


def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(400, "bad_request", "request body is not valid JSON")
    # pydantic prefixes a validator's own message with "Value error, "; people need only ours.
    details = [{"field": _location(tuple(e.get("loc", ()))),
                "message": str(e.get("msg", "")).removeprefix("Value error, ")} for e in errors]
    message = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
    return error_response(422, "invalid_input", message or "invalid input", details)


def _domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OcxError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return error_response(exc.status, exc.type, exc.message, headers=headers)


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    kind = HTTP_TYPES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else kind.replace("_", " ")
    if exc.status_code == 404 and message == "Not Found":
        message = f"no such endpoint: {request.method} {request.url.path}"
    return error_response(exc.status_code, kind, message, headers=exc.headers)


def _integrity(request: Request, exc: Exception) -> JSONResponse:
    # Services turn known uniqueness races into Conflict; this catches the rest. The
    # statement's parameters may hold secrets, so only the database's reason is logged.
    assert isinstance(exc, IntegrityError)
    log.warning("integrity error: %s", str(exc.orig).splitlines()[0] if exc.orig else "?")
    return error_response(409, "conflict", "the change conflicts with existing data")


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Normally RequestIdMiddleware answers first; this is the last resort behind it.
    request_id = request.scope.get("state", {}).get("request_id", request_id_var.get())
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal",
                          f"internal error; quote request id {request_id} when reporting it")


def install_error_handlers(app: FastAPI) -> None:
    """Register the mapping from exceptions to error responses."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(OcxError, _domain)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(IntegrityError, _integrity)
    app.add_exception_handler(Exception, _unexpected)
