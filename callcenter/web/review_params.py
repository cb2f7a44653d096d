"""The query parameters of the manager's ticket and callback lists, parsed from outside.

Every value is hostile until parsed: a bad one raises ParamError naming its parameter (the
API answers 422 with the field, the page shows the field in Polish), never echoing the
value. A parameter given twice is refused; unknown parameters are ignored. Dates are days
in Warsaw, `since` and `until` both inclusive, within 1970-01-01..2999-12-31.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, TypeVar

from fastapi import Path

from callcenter.domain.breaches import CallbackStanding, TicketStanding
from callcenter.domain.calendar import WARSAW
from callcenter.domain.terms import TicketKind
from callcenter.domain.tickets import CONTRACT_MAX
from callcenter.review import PAGE_DEFAULT, PAGE_MAX
from callcenter.store.callback_review import CallbackCursor, CallbackFilter
from callcenter.store.ticket_list import Keyset, TicketFilter

# A row id in a path: the store's ids are 32-bit integers; a larger number is no row of ours
# (and would overflow the database's comparison), so it is refused as a bad parameter.
ID_MAX = 2_147_483_647
RowId = Annotated[int, Path(ge=1, le=ID_MAX)]

FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2999, 12, 31)

E = TypeVar("E", bound=StrEnum)


class ParamError(ValueError):
    """A bad query parameter: `field` names it, `message` says why (never its value)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Params:
    """The request's query parameters as (name, value) pairs."""

    def __init__(self, items: Sequence[tuple[str, str]]) -> None:
        self.values: dict[str, list[str]] = {}
        for name, value in items:
            self.values.setdefault(name, []).append(value)

    def get(self, name: str) -> str | None:
        """The parameter's value, stripped; None when absent or empty."""
        found = self.values.get(name)
        if not found:
            return None
        if len(found) > 1:
            raise ParamError(name, "given more than once")
        value = found[0].strip()
        return value or None


def _enum(params: Params, name: str, kind: type[E]) -> E | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        known = ", ".join(k.value for k in kind)
        raise ParamError(name, f"unknown value (one of {known})") from None


def _day(params: Params, name: str) -> date | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        if len(value) != 10 or not value.isascii():
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        raise ParamError(name, "not a date (YYYY-MM-DD)") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ParamError(name, f"outside {FIRST_DAY}..{LAST_DAY}")
    return day


def _range(params: Params) -> tuple[datetime | None, datetime | None]:
    """`since`..`until` (days, inclusive) as UTC-comparable instants, `until` exclusive."""
    since, until = _day(params, "since"), _day(params, "until")
    if since is not None and until is not None and until < since:
        raise ParamError("until", "before since")
    start = datetime.combine(since, time(), tzinfo=WARSAW) if since else None
    end = datetime.combine(until + timedelta(days=1), time(), tzinfo=WARSAW) if until else None
    return start, end


def _contract(params: Params) -> str | None:
    value = params.get("contract")
    if value is not None and len(value) > CONTRACT_MAX:
        raise ParamError("contract", f"longer than {CONTRACT_MAX} characters")
    return value


def _limit(params: Params) -> int:
    value = params.get("limit")
    if value is None:
        return PAGE_DEFAULT
    digits = value.isascii() and value.isdigit() and len(value) <= 6
    if not digits or not 1 <= int(value) <= PAGE_MAX:
        raise ParamError("limit", f"a whole number 1..{PAGE_MAX}")
    return int(value)


C = TypeVar("C")


def _after(params: Params, decode: Callable[[str], C]) -> C | None:
    name = "after"
    value = params.get(name)
    if value is None:
        return None
    try:
        if not value.isascii():
            raise ValueError(name)
        return decode(value)
    except ValueError:
        raise ParamError("after", "not a page cursor of this list") from None


@dataclass(frozen=True)
class TicketQuery:
    filter: TicketFilter
    after: Keyset | None
    limit: int


@dataclass(frozen=True)
class CallbackQuery:
    filter: CallbackFilter
    after: CallbackCursor | None
    limit: int


def ticket_query(items: Sequence[tuple[str, str]]) -> TicketQuery:
    params = Params(items)
    since, until = _range(params)
    return TicketQuery(
        filter=TicketFilter(
            contract=_contract(params),
            kind=_enum(params, "kind", TicketKind),
            standing=_enum(params, "state", TicketStanding),
            since=since,
            until=until,
        ),
        after=_after(params, Keyset.decode),
        limit=_limit(params),
    )


def callback_query(items: Sequence[tuple[str, str]]) -> CallbackQuery:
    params = Params(items)
    since, until = _range(params)
    return CallbackQuery(
        filter=CallbackFilter(
            standing=_enum(params, "state", CallbackStanding),
            contract=_contract(params),
            since=since,
            until=until,
        ),
        after=_after(params, CallbackCursor.decode),
        limit=_limit(params),
    )


def form_values(items: Sequence[tuple[str, str]], names: Sequence[str]) -> Mapping[str, str]:
    """The filter form's values as given (for re-filling the form; autoescaped there)."""
    found: dict[str, str] = {}
    for name, value in items:
        if name in names and name not in found:
            found[name] = value[:100]
    return found
