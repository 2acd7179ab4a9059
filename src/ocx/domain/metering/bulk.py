"""Bulk writes and reads for the hot paths of ingestion and rating: hundreds of
thousands of rows a month.

SQLAlchemy's executemany converts every value of every row through its column type
(timestamps, UUIDs, JSON, decimals), which costs more than the database itself at this
volume. Ingestion repeats most values (a span's start is the previous one's end; owners,
shapes and states recur), so each distinct value is converted once by the column's own
bind processor, and the rows go to the DBAPI's ``executemany`` as plain tuples.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Executable, Numeric, Table, type_coerce
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

Processor = Callable[[Any], Any]
COPY_FROM = 100  # rows: fewer go by executemany (COPY has its own set-up cost)


class _Bulk:
    """One statement for many rows of ``columns`` of ``table``, values converted once;
    the ``bound`` columns' values are given as the driver takes them already (ids read
    raw, by :class:`MemoRead`, and written back as they are)."""

    def __init__(self, session: Session, table: Table, columns: Sequence[str],
                 sql: Callable[[str], str], bound: Collection[str] = ()) -> None:
        self.connection = session.connection()
        dialect = self.connection.dialect
        self.sql = sql("?" if dialect.paramstyle == "qmark" else "%s")
        self.processors: list[Processor | None] = [
            None if name in bound else
            table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in columns]

    def rows(self, rows: Sequence[Sequence[Any]]) -> Sequence[Sequence[Any]]:
        """The rows with every value as the database driver takes it."""
        if not any(self.processors):  # all bound already
            return rows
        columns: list[Sequence[Any]] = list(zip(*rows, strict=True))
        for i, processor in enumerate(self.processors):
            if processor is not None and columns:
                columns[i] = _converted(columns[i], processor)
        return list(zip(*columns, strict=True))

    def execute(self, rows: Sequence[Sequence[Any]]) -> None:
        """Run the statement for every row (nothing for none)."""
        if rows:
            self.connection.exec_driver_sql(self.sql, self.rows(rows))


class BulkInsert(_Bulk):
    """``INSERT INTO table (columns) VALUES (...)`` for many rows; on PostgreSQL, from
    :data:`COPY_FROM` rows up, ``COPY table (columns) FROM STDIN`` in the same
    transaction (several times faster than inserting row by row; same constraints, so a
    duplicate still fails the transaction)."""

    def __init__(self, session: Session, table: Table, columns: Sequence[str],
                 bound: Collection[str] = ()) -> None:
        # Names from OCX's own table metadata, never from input.
        super().__init__(session, table, columns, lambda marker: (
            f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608
            f"VALUES ({', '.join([marker] * len(columns))})"), bound)
        self.copy = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN" \
            if self.connection.dialect.name == "postgresql" else None

    def execute(self, rows: Sequence[Sequence[Any]]) -> None:
        """Insert every row (nothing for none)."""
        if self.copy is None or len(rows) < COPY_FROM:
            super().execute(rows)
            return
        driver = self.connection.connection.driver_connection  # psycopg's, in our transaction
        assert driver is not None
        dbapi = self.connection.dialect.loaded_dbapi
        try:
            with driver.cursor() as cursor, cursor.copy(self.copy) as copy:
                for row in self.rows(rows):
                    copy.write_row(row)
        except dbapi.Error as exc:  # raised as SQLAlchemy raises an INSERT's (IntegrityError...)
            raise DBAPIError.instance(self.copy, None, exc, dbapi.Error) from exc


class BulkUpdate(_Bulk):
    """``UPDATE table SET columns... WHERE key = ...`` for many rows: each row is the
    values of ``columns`` then the key's."""

    def __init__(self, session: Session, table: Table, columns: Sequence[str],
                 key: str, bound: Collection[str] = ()) -> None:
        # Names from OCX's own table metadata, never from input.
        super().__init__(session, table, [*columns, key], lambda marker: (
            f"UPDATE {table.name} SET "  # noqa: S608
            f"{', '.join(f'{name} = {marker}' for name in columns)} WHERE {key} = {marker}"),
            bound)


class BulkDelete(_Bulk):
    """``DELETE FROM table WHERE key = ...`` for many rows (each row: the key's value)."""

    def __init__(self, session: Session, table: Table, key: str,
                 bound: Collection[str] = ()) -> None:
        # Names from OCX's own table metadata, never from input.
        super().__init__(session, table, [key], lambda marker: (
            f"DELETE FROM {table.name} WHERE {key} = {marker}"), bound)  # noqa: S608


class ToDriver:
    """Values of one column as the database driver takes them, for building rows already
    bound (see ``bound`` above): each distinct timestamp, or each object (a shared
    dict of attributes, a UUID), converted once by the column's type."""

    def __init__(self, session: Session, column: ColumnElement[Any]) -> None:
        dialect = session.get_bind().dialect
        self.processor = column.type.dialect_impl(dialect).bind_processor(dialect)
        self.memo: dict[Any, tuple[Any, Any]] = {}

    def __call__(self, value: Any) -> Any:
        """``value`` as the driver takes it."""
        if value is None or self.processor is None:
            return value
        key = value if value.__class__ is datetime else id(value)
        found = self.memo.get(key)
        if found is None:  # the value is kept too: its id stays its own
            found = self.memo[key] = (value, self.processor(value))
        return found[1]


class MemoRead:
    """Reading many rows whose values repeat (a span's start is the previous one's end;
    owners, shapes and states recur): each column is selected raw and each distinct raw
    value converted once by the column type's own result processor.

    ``columns`` are selected with :attr:`selected` (filters, joins as usual); then
    :meth:`rows` converts the result's rows. Numeric columns are left to SQLAlchemy
    (their conversion depends on the database's reported type); the ``raw`` ones (by
    key) are left as the driver gives them, to be written back as they are.
    """

    def __init__(self, session: Session, columns: Sequence[ColumnElement[Any]],
                 raw: Collection[str] = ()) -> None:
        dialect = session.get_bind().dialect
        self.selected: list[ColumnElement[Any]] = []
        self.processors: list[Processor | None] = []
        for column in columns:
            impl = column.type.dialect_impl(dialect)
            processor = None if isinstance(impl, Numeric) else impl.result_processor(
                dialect, None)
            if column.key in raw:
                self.processors.append(None)
                self.selected.append(type_coerce(column, NullType()).label(column.key))
                continue
            self.processors.append(processor)
            self.selected.append(column if processor is None
                                 else type_coerce(column, NullType()).label(column.key))

    def read(self, session: Session, statement: Executable) -> list[tuple[Any, ...]]:
        """The statement's rows, converted: run on the session's connection, past the
        ORM's row handling (pending changes are flushed first, as the ORM would)."""
        session.flush()
        return self.rows(session.connection().execute(statement).fetchall())

    def rows(self, result: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """The result's rows, every value converted."""
        columns: list[Sequence[Any]] = list(zip(*result, strict=True))
        for i, processor in enumerate(self.processors):
            if processor is not None and columns:
                columns[i] = _converted(columns[i], processor, by_identity=False)
        return list(zip(*columns, strict=True))


def _converted(values: Sequence[Any], processor: Processor, *,
               by_identity: bool = True) -> list[Any]:
    """``processor(value)`` of each value, computed once per distinct value, or per
    object when ``by_identity`` (cheaper than hashing UUIDs; every object stays alive,
    referenced by ``values``, during the call) except for timestamps, whose equal
    values are often distinct objects and whose hash is cached. None stays None."""
    memo: dict[Any, Any] = {}
    out: list[Any] = []
    for value in values:
        if value is None:
            out.append(None)
            continue
        key = id(value) if by_identity and value.__class__ is not datetime else value
        found = memo.get(key, memo)
        if found is memo:
            found = memo[key] = processor(value)
        out.append(found)
    return out


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector paused for a bulk step: it allocates hundreds of
    thousands of short-lived tuples and no cycles, and each full collection would walk
    every object of the process again (a fifth of rating's time). Resumed after, if it
    was running before."""
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()
