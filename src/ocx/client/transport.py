"""What the client's call mixins need from ``OcxClient``: one typed transport, shared."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from ocx.client.models import Page

M = TypeVar("M", bound=BaseModel)


class Transport(Protocol):
    """The three calls of ``OcxClient`` the mixins are written against."""

    def _send(self, method: str, path: str, body: Mapping[str, Any] | None = None,
              params: Mapping[str, Any] | None = None) -> httpx.Response: ...

    def _read(self, model: type[M], method: str, path: str,
              body: Mapping[str, Any] | None = None,
              params: Mapping[str, Any] | None = None) -> M: ...

    def _page(self, model: type[Page[M]], path: str, cursor: str | None, limit: int | None,
              **filters: Any) -> Page[M]: ...


def seg(ref: object) -> str:
    """``ref`` as one URL path segment (names may hold ``/`` or spaces)."""
    return quote(str(ref), safe="")


def clean(**fields: Any) -> dict[str, Any]:
    """A JSON body of the fields that were given (``None`` means "not given")."""
    return {key: to_jsonable_python(value) for key, value in fields.items()
            if value is not None}
