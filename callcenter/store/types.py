"""Column types: aware datetimes stored as UTC on every backend; text from outside fitted
to its column."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Takes aware datetimes only; stores UTC; gives back aware UTC datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime cannot be stored: {value!r}")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Fitted(TypeDecorator[str]):
    """A string column that takes any text from outside (a caller's name, a number as
    given): cut to the column's length and without NUL characters (PostgreSQL refuses them),
    so one caller's oversized or odd value never makes a call-log write fail."""

    impl = String
    cache_ok = True

    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else fit(value, self.length)


def fit(value: str, length: int) -> str:
    """`value` as a column of `length` characters holds it."""
    if "\x00" in value:
        value = value.replace("\x00", "\N{REPLACEMENT CHARACTER}")
    return value[:length]
