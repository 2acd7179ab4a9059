"""Bulk inserts for the hot path of ingestion: hundreds of thousands of rows a month.

SQLAlchemy's executemany converts every value of every row through its column type
(timestamps, UUIDs, JSON, decimals), which costs more than the database itself at this
volume. Ingestion repeats most values (a span's start is the previous one's end; owners,
shapes and states recur), so each distinct value is converted once by the column's own
bind processor, and the rows go to the DBAPI's ``executemany`` as plain tuples.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

Processor = Callable[[Any], Any]


class BulkInsert:
    """``INSERT INTO table (columns) VALUES (...)`` for many rows, values converted once."""

    def __init__(self, session: Session, table: Table, columns: Sequence[str]) -> None:
        self.connection = session.connection()
        dialect = self.connection.dialect
        marker = "?" if dialect.paramstyle == "qmark" else "%s"
        # Names from OCX's own table metadata, never from input.
        self.sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608
                    f"VALUES ({', '.join([marker] * len(columns))})")
        self.processors: list[Processor | None] = [
            table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in columns]

    def rows(self, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """The rows with every value as the database driver takes it."""
        # Values are remembered by identity (cheaper than hashing UUIDs and datetimes):
        # every object stays alive, referenced by ``rows``, during this call.
        columns: list[tuple[int, Processor, dict[int, Any]]] = [
            (i, p, {}) for i, p in enumerate(self.processors) if p is not None]

        def convert(row: Sequence[Any]) -> tuple[Any, ...]:
            out = list(row)
            for i, processor, memo in columns:
                value = out[i]
                if value is not None:
                    found = memo.get(id(value))
                    if found is None:
                        found = memo[id(value)] = processor(value)
                    out[i] = found
            return tuple(out)

        return [convert(row) for row in rows]

    def execute(self, rows: Sequence[Sequence[Any]]) -> None:
        """Insert the rows (nothing for none)."""
        if rows:
            self.connection.exec_driver_sql(self.sql, self.rows(rows))
