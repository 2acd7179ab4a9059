"""The list response shape: ``{"items": [...], "next_cursor": "..."}``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from ocx.persistence.pagination import Page

T = TypeVar("T", bound=BaseModel)


class PageOut(BaseModel, Generic[T]):
    """One page of a list; pass ``next_cursor`` back as ``?cursor=`` for the next."""

    items: list[T]
    next_cursor: str | None


def page_out(page: Page[Any], convert: Callable[[Any], T]) -> PageOut[T]:
    """Convert a domain page into its response model."""
    return PageOut[T](items=[convert(item) for item in page.items], next_cursor=page.next_cursor)
