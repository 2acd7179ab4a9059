"""Cursor (keyset) pagination over (created_at, id): stable under concurrent inserts."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import Session

from ocx.errors import InvalidInput

T = TypeVar("T")
MAX_LIMIT = 500


@dataclass
class Page(Generic[T]):
    """One page of results and the cursor of the next, if any."""

    items: list[T]
    next_cursor: str | None


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    """An opaque cursor pointing just after the given row."""
    raw = f"{created_at.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """Parse a cursor made by :func:`encode_cursor`.

    Raises:
        InvalidInput: the cursor was not made by OCX.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, row_id = raw.split("|")
        created_at = datetime.fromisoformat(stamp)
        if created_at.tzinfo is None:
            raise ValueError("naive")
        return created_at.astimezone(UTC), uuid.UUID(row_id)
    except (ValueError, OverflowError, UnicodeDecodeError, binascii.Error) as exc:
        raise InvalidInput("invalid cursor; pass the next_cursor of a previous page") from exc


def paginate(
    session: Session, stmt: Select[Any], model: Any, *, cursor: str | None, limit: int,
    newest_first: bool = False,
) -> Page[Any]:
    """Run ``stmt`` ordered by (created_at, id), returning at most ``limit`` rows."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}")
    if cursor:
        created_at, row_id = decode_cursor(cursor)
        if newest_first:
            after = or_(model.created_at < created_at,
                        and_(model.created_at == created_at, model.id < row_id))
        else:
            after = or_(model.created_at > created_at,
                        and_(model.created_at == created_at, model.id > row_id))
        stmt = stmt.where(after)
    order = ((model.created_at.desc(), model.id.desc()) if newest_first
             else (model.created_at, model.id))
    rows = list(session.scalars(stmt.order_by(*order).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id)
    return Page(items=rows, next_cursor=next_cursor)
