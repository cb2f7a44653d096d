"""Reading the contract CSV: all rows valid, or a list of what is wrong on which line.

Pure: takes the file's bytes (`decode_csv`) or text, returns contracts or raises `CsvError`
naming every bad line. Blank lines before the header are skipped (line numbers stay the
file's); a field longer than its column, a date outside the supported days, a file in
another encoding or a field over the csv module's size limit is a bad line, not a crash.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TypeVar
from urllib.parse import urlsplit

from callcenter.domain.calendar import WARSAW
from callcenter.domain.contracts import Contract
from callcenter.domain.dates import date_problem
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
# The widths of the columns these fields are stored in (store/models.py; a test compares).
MAX_LENGTH = {"number": 64, "customer": 200, "site_url": 500, "email": 320}
MAX_DAILY_UNITS = 1000
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


def decode_csv(data: bytes) -> str:
    """The file's text (UTF-8, with or without BOM); another encoding names the line."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = data[exc.start]
        raise CsvError(
            [LineError(line, f"is not UTF-8 (byte 0x{byte:02x} at column {column}): save "
                       "the file as UTF-8 (another encoding, e.g. Windows-1250?)")]
        ) from None  # fmt: skip


def parse_contracts(text: str, region: str = "PL") -> list[Contract]:
    lines = list(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    skipped = 0  # blank lines before the header: not data, and not "an empty file"
    while skipped < len(lines) and not lines[skipped].strip():
        skipped += 1
    reader = csv.reader(lines[skipped:])  # rows as lists, named below (DictReader is slower)
    header = _header(reader, skipped + 1)
    contracts: list[Contract] = []
    errors: list[LineError] = []
    seen: dict[str, int] = {}
    consumed = skipped + reader.line_num
    while True:
        # A record names the line it starts on, even when a quoted field spans several.
        line = _record_start(lines, consumed)
        try:
            fields = next(reader)
            while not fields:  # a blank line between records
                fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # the reader cannot go on past it: the rest is unread
            errors.append(LineError(line, f"{_csv_problem(exc)}; the lines after it not read"))
            break
        consumed = skipped + reader.line_num
        if len(fields) > len(header):
            errors.append(
                LineError(line, f"{len(fields) - len(header)} more field(s) than the header")
            )
            continue
        if len(fields) < len(header):
            errors.append(LineError(line, "fewer fields than the header"))
            continue
        row = dict(zip(header, fields, strict=True))
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


def _header(reader: Iterator[list[str]], line: int) -> list[str]:
    """The header row's column names (on `line`), or CsvError saying what is wrong."""
    try:
        header = [h.strip() for h in next(reader, [])]
    except csv.Error as exc:
        raise CsvError([LineError(line, f"header: {_csv_problem(exc)}")]) from None
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
        raise CsvError([LineError(line, "header: " + "; ".join(parts))])
    return header


def _csv_problem(exc: csv.Error) -> str:
    if "field limit" in str(exc):
        return f"a field is longer than {csv.field_size_limit()} characters"
    return f"not CSV ({exc})"


def _record_start(lines: list[str], consumed: int) -> int:
    """The number of the first non-blank line after `consumed` (the reader skips blank lines)."""
    index = consumed
    while index < len(lines) and not lines[index].strip("\r\n"):
        index += 1
    return index + 1


def _field(row: dict[str, str], name: str, parse: Callable[[str], T]) -> T:
    value = (row[name] or "").strip()
    limit = MAX_LENGTH.get(name)
    if limit is not None and len(value) > limit:
        raise ValueError(f"{name}: {len(value)} characters, at most {limit}")
    try:
        return parse(value)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _quoted(value: str, limit: int = 60) -> str:
    """A field's value in a message: quoted, and cut short when long."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}... ({len(value)} characters)"


def _required(value: str) -> str:
    if not value:
        raise ValueError("is empty")
    return value


def _date(value: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{_quoted(value)} is not a date (YYYY-MM-DD)") from None
    if problem := date_problem(day):
        raise ValueError(problem)
    return day


def _accepted(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{_quoted(value)} is not a date-time (ISO 8601)") from None
    if problem := date_problem(moment):
        raise ValueError(problem)
    return moment.replace(tzinfo=WARSAW) if moment.tzinfo is None else moment


def _choice(kind: type[E]) -> Callable[[str], E]:
    def parse(value: str) -> E:
        try:
            return kind(value.lower())
        except ValueError:
            known = "|".join(k.value for k in kind)
            raise ValueError(f"{_quoted(value)} is not one of {known}") from None

    return parse


# An http(s) URL of the plainest shape: urlsplit would read the same scheme and a host, so
# it is taken without asking urlsplit (a few microseconds for each of many thousand rows).
_PLAIN_URL = re.compile(r"(?i:https?)://[A-Za-z0-9.-]+(?::[0-9]+)?(?:[/?#][!-~]*)?")


def _url(value: str) -> str:
    if _PLAIN_URL.fullmatch(value):
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
        raise ValueError(f"{_quoted(value)} is not an http(s) URL")
    return value


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"{_quoted(value)} is not an e-mail address")
    return value


def _units(value: str) -> int | None:
    if not value:
        return None
    try:
        units = int(value)
    except ValueError:
        raise ValueError(f"{_quoted(value)} is not a whole number") from None
    if units < 1:
        raise ValueError(f"must be at least 1, not {units}")
    if units > MAX_DAILY_UNITS:
        raise ValueError(f"must be at most {MAX_DAILY_UNITS}, not {units}")
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
