"""Reading the contract CSV: all rows valid, or a list of what is wrong on which line.

Pure: takes the file's text, returns contracts or raises `CsvError` naming every bad line.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TypeVar
from urllib.parse import urlsplit

from callcenter.domain.calendar import WARSAW
from callcenter.domain.contracts import Contract
from callcenter.domain.phone import to_e164
from callcenter.domain.terms import Billing, Plan, Product

COLUMNS = (
    "number",
    "customer",
    "plan",
    "billing",
    "paid_from",
    "paid_until",
    "product",
    "site_url",
    "phones",
    "email",
    "accepted_at",
    "daily_units",
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True)
class LineError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class CsvError(ValueError):
    """The file cannot be imported; `errors` names each bad line."""

    def __init__(self, errors: list[LineError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


def parse_contracts(text: str, region: str = "PL") -> list[Contract]:
    lines = list(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    reader = csv.DictReader(lines)
    header = [h.strip() for h in reader.fieldnames or []]
    if not header:
        raise CsvError([LineError(1, "the file is empty (expected a header row)")])
    missing = [c for c in COLUMNS if c not in header]
    unknown = [h for h in header if h not in COLUMNS]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(unknown)}")
        raise CsvError([LineError(1, "header: " + "; ".join(parts))])
    reader.fieldnames = header

    contracts: list[Contract] = []
    errors: list[LineError] = []
    seen: dict[str, int] = {}
    consumed = reader.line_num
    for row in reader:
        # A record names the line it starts on, even when a quoted field spans several.
        line = _record_start(lines, consumed)
        consumed = reader.line_num
        if None in row:
            errors.append(LineError(line, f"{len(row[None])} more field(s) than the header"))
            continue
        if any(v is None for v in row.values()):
            errors.append(LineError(line, "fewer fields than the header"))
            continue
        try:
            contract = _contract(row, region)
        except ValueError as exc:
            errors.append(LineError(line, str(exc)))
            continue
        if contract.number in seen:
            errors.append(
                LineError(
                    line,
                    f"duplicate contract number {contract.number!r} "
                    f"(first on line {seen[contract.number]})",
                )
            )
            continue
        seen[contract.number] = line
        contracts.append(contract)
    if errors:
        raise CsvError(errors)
    return contracts


def _record_start(lines: list[str], consumed: int) -> int:
    """The number of the first non-blank line after `consumed` (the reader skips blank lines)."""
    index = consumed
    while index < len(lines) and not lines[index].strip("\r\n"):
        index += 1
    return index + 1


def _field(row: dict[str, str], name: str, parse: Callable[[str], T]) -> T:
    value = (row[name] or "").strip()
    try:
        return parse(value)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _required(value: str) -> str:
    if not value:
        raise ValueError("is empty")
    return value


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _accepted(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date-time (ISO 8601)") from None
    return moment.replace(tzinfo=WARSAW) if moment.tzinfo is None else moment


def _choice(kind: type[E]) -> Callable[[str], E]:
    def parse(value: str) -> E:
        try:
            return kind(value.lower())
        except ValueError:
            known = "|".join(k.value for k in kind)
            raise ValueError(f"{value!r} is not one of {known}") from None

    return parse


def _url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an e-mail address")
    return value


def _units(value: str) -> int | None:
    if not value:
        return None
    try:
        units = int(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a whole number") from None
    if units < 1:
        raise ValueError(f"must be at least 1, not {units}")
    return units


def _contract(row: dict[str, str], region: str) -> Contract:
    plan = _field(row, "plan", _choice(Plan))
    billing = _field(row, "billing", _choice(Billing))

    def phones(value: str) -> tuple[str, ...]:
        numbers = [p.strip() for p in value.split(";") if p.strip()]
        if not numbers and plan.covers_phone:
            raise ValueError(f"a {plan} plan names at least one phone number")
        return tuple(dict.fromkeys(to_e164(p, region) for p in numbers))

    paid_from = _field(row, "paid_from", _date)
    paid_until = _field(row, "paid_until", _date)
    if paid_until < paid_from:
        raise ValueError(f"paid_until {paid_until} is before paid_from {paid_from}")
    return Contract(
        number=_field(row, "number", _required),
        customer=_field(row, "customer", _required),
        plan=plan,
        billing=billing,
        paid_from=paid_from,
        paid_until=paid_until,
        product=_field(row, "product", Product.parse),
        site_url=_field(row, "site_url", _url),
        phones=_field(row, "phones", phones),
        email=_field(row, "email", _email),
        accepted_at=_field(row, "accepted_at", _accepted),
        daily_units=_field(row, "daily_units", _units),
    )
