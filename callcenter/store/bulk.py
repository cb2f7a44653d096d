"""Statements run by the driver itself for many rows at a time: compiled once, values as the
driver takes them (bind processing is the caller's). What contract_import.py writes with.

SQLite: executemany, and multi-row `INSERT ... RETURNING` where the new ids are wanted;
PostgreSQL: COPY, and reads of a chunk's values as one array parameter.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import chain
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.expression import ClauseElement

# The IN list of the reads: one expanding parameter, written out by Bulk.rows.
IN: BindParameter[Any] = bindparam("values", expanding=True)
IN_MARK = "(__[POSTCOMPILE_values])"


class Bulk:
    """One connection's statements, compiled once and run by its driver."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.compiled: dict[str, tuple[str, list[str] | None]] = {}
        self.marks: dict[int, str] = {}
        # SQLite (3.35 on) returns an insert's ids: this many parameters per statement.
        self.returning: int | None = None
        if connection.dialect.name == "sqlite" and sqlite3.sqlite_version_info >= (3, 35):
            raw: Any = connection.connection.driver_connection
            self.returning = raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)

    def many(
        self, name: str, statement: ClauseElement, keys: Sequence[str], rows: list[tuple[Any, ...]]
    ) -> None:
        """Run `statement` once per row; each row holds the values of `keys` in order."""
        if not rows:
            return
        if name not in self.compiled:
            compiled: Any = statement.compile(dialect=self.connection.dialect)
            order = list(compiled.positiontup or ()) if compiled.positional else None
            self.compiled[name] = (str(compiled), order)
        sql, order = self.compiled[name]
        params: list[Any]
        if order is None:  # named parameters
            params = [dict(zip(keys, row, strict=True)) for row in rows]
        elif order == list(keys):
            params = rows
        else:
            pick = itemgetter(*(list(keys).index(key) for key in order))
            params = [pick(row) for row in rows]
        self.connection.exec_driver_sql(sql, params)

    def insert(self, table: Any, keys: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        """Insert rows holding the values of `keys` in order: into SQLite (in this process)
        by executemany; into PostgreSQL by COPY (psycopg's), one stream for the chunk
        instead of a statement for each row."""
        if not rows:
            return
        if self.connection.dialect.name != "postgresql":
            self.many(f"insert {table.__tablename__}", insert_statement(table, keys), keys, rows)
            return
        quote = self.connection.dialect.identifier_preparer.quote
        sql = f"COPY {quote(table.__tablename__)} ({', '.join(map(quote, keys))}) FROM STDIN"
        raw: Any = self.connection.connection.driver_connection  # the transaction's own
        error = self.connection.dialect.loaded_dbapi.Error
        try:
            with raw.cursor() as cursor, cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        except error as exc:  # as SQLAlchemy raises it (IntegrityError, ...)
            raise DBAPIError.instance(sql, None, exc, error) from exc

    def inserted(
        self, table: Any, keys: Sequence[str], rows: list[tuple[Any, ...]], key: str
    ) -> dict[Any, int]:
        """Insert rows (as `insert`), and the new rows' ids by their `key` column's value:
        SQLite returns them from the insert itself (RETURNING, one statement for as many
        rows as its parameters allow); PostgreSQL's are read back after its COPY."""
        if not rows:
            return {}
        if self.returning is None:
            self.insert(table, keys, rows)
            column = table.__table__.c[key]
            query = select(column, table.__table__.c.id).where(column.in_(IN))
            index = list(keys).index(key)
            found = self.rows(f"ids of {table.__tablename__}", query, [r[index] for r in rows])
            return dict(found)
        quote = self.connection.dialect.identifier_preparer.quote
        head = f"INSERT INTO {quote(table.__tablename__)} ({', '.join(map(quote, keys))}) VALUES "
        tail = f" RETURNING {quote(key)}, id"
        row_marks = f"({', '.join('?' * len(keys))})"
        per = max(1, self.returning // len(keys))
        ids: dict[Any, int] = {}
        for start in range(0, len(rows), per):
            part = rows[start : start + per]
            sql = head + ", ".join([row_marks] * len(part)) + tail
            values = tuple(chain.from_iterable(part))
            ids.update(self.connection.exec_driver_sql(sql, values).all())
        return ids

    @contextmanager
    def index_lookups(self) -> Iterator[None]:
        """PostgreSQL: the lookups of a chunk's values (`rows`) by the column's index, a
        nested loop, while this lasts. The tables an import fills have no statistics yet
        in its transaction: the planner took them for small and hashed each whole table
        for every chunk (the import took time growing with the square of its size)."""
        postgres = self.connection.dialect.name == "postgresql"
        if postgres:
            self.connection.exec_driver_sql("SET LOCAL enable_hashjoin = off")
            self.connection.exec_driver_sql("SET LOCAL enable_mergejoin = off")
        yield  # not reset after an error: the transaction is rolled back, and the settings
        if postgres:
            self.connection.exec_driver_sql("SET LOCAL enable_hashjoin TO DEFAULT")
            self.connection.exec_driver_sql("SET LOCAL enable_mergejoin TO DEFAULT")

    def rows(self, name: str, statement: ClauseElement, values: Sequence[Any]) -> list[Any]:
        """The rows of a SELECT whose one parameter is an expanding IN list (`IN`), run by
        the driver: its placeholders written once per list length, not per value."""
        if not values:
            return []
        if name not in self.compiled:
            self.compiled[name] = (str(statement.compile(dialect=self.connection.dialect)), None)
        sql, _ = self.compiled[name]
        if self.connection.dialect.name == "postgresql":
            # One array parameter (psycopg parses a statement of a thousand placeholders
            # anew each time), unnested and joined: each value looked up by the column's
            # index (index_lookups; with `= ANY(array)` the planner scanned the table).
            kind = "BIGINT" if isinstance(values[0], int) else "TEXT"
            query = sql.replace(IN_MARK, f"(SELECT unnest(CAST(%s AS {kind}[])))")
            return list(self.connection.exec_driver_sql(query, (list(values),)).all())
        marks = self.marks.get(len(values))
        if marks is None:
            marks = self.marks[len(values)] = ", ".join(["?"] * len(values))
        query = sql.replace(IN_MARK, f"({marks})")
        return list(self.connection.exec_driver_sql(query, tuple(values)).all())


def insert_statement(table: Any, keys: Iterable[str]) -> ClauseElement:
    return insert(table).values({key: bindparam(key) for key in keys}).inline()
