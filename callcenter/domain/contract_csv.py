"""Reading the contract CSV: all rows valid, or a list of what is wrong on which line.

Pure: takes the file's bytes (`decode_csv`) or text, returns contracts or raises `CsvError`
naming every bad line. Blank lines before the header are skipped (line numbers stay the
file's); a field longer than its column, a date outside the supported days, a file in
another encoding or a field over the csv module's size limit is a bad line, not a crash.
"""

from __future__ import annotations

import csv
import functools
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
    """Every record's contract; CsvError naming every bad line if there is one."""
    contracts: list[Contract] = []
    errors: list[LineError] = []
    for _, record in read_contracts(text, region):
        if isinstance(record, LineError):
            errors.append(record)
        else:
            contracts.append(record)
    if errors:
        raise CsvError(errors)
    return contracts


def read_contracts(text: str, region: str = "PL") -> Iterator[tuple[int, Contract | LineError]]:
    """Record by record, in the file's order: the line it starts on (even when a quoted
    field spans several), and its contract or the LineError saying what is wrong there (a
    record the CSV reader cannot read ends the file). A bad header, or none, raises
    CsvError before the first record."""
    lines = list(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    skipped = 0  # blank lines before the header: not data, and not "an empty file"
    while skipped < len(lines) and not lines[skipped].strip():
        skipped += 1
    reader = csv.reader(lines[skipped:])  # rows as lists, named later (DictReader is slower)
    header = _header(reader, skipped + 1)
    seen: dict[str, int] = {}
    consumed = skipped + reader.line_num
    while True:
        line = _record_start(lines, consumed)
        try:
            fields = next(reader)
            while not fields:  # a blank line between records
                fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # the rest is unread
            yield line, LineError(line, f"{_csv_problem(exc)}; the lines after it not read")
            return
        consumed = skipped + reader.line_num
        yield line, _record(header, fields, line, region, seen)


def _record(
    header: list[str], fields: list[str], line: int, region: str, seen: dict[str, int]
) -> Contract | LineError:
    """One record's contract, or what is wrong on its line; `seen`: the numbers so far,
    with their lines."""
    if len(fields) > len(header):
        return LineError(line, f"{len(fields) - len(header)} more field(s) than the header")
    if len(fields) < len(header):
        return LineError(line, "fewer fields than the header")
    try:
        contract = _contract(dict(zip(header, fields, strict=True)), region)
    except ValueError as exc:
        return LineError(line, str(exc))
    first = seen.setdefault(contract.number, line)
    if first != line:
        return LineError(
            line, f"duplicate contract number {contract.number!r} (first on line {first})"
        )
    return contract


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


def _field(value: str, name: str, parse: Callable[[str], T]) -> T:
    """`value` (a cell, stripped) read by `parse`; a problem names the column."""
    try:
        return parse(value)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _limited(name: str, parse: Callable[[str], T]) -> Callable[[str], T]:
    """`parse`, for a column at most MAX_LENGTH[name] characters wide."""
    limit = MAX_LENGTH[name]

    def limited(value: str) -> T:
        if len(value) > limit:
            raise ValueError(f"{len(value)} characters, at most {limit}")
        return parse(value)

    return limited


def _quoted(value: str, limit: int = 60) -> str:
    """A field's value in a message: quoted, and cut short when long."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}... ({len(value)} characters)"


def _required(value: str) -> str:
    if not value:
        raise ValueError("is empty")
    return value


# A file's dates repeat (billing periods start and end on the same days): each distinct text
# is read once, and the contracts share the one value (sent on between processes once).
@functools.lru_cache(maxsize=4096)
def _date(value: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{_quoted(value)} is not a date (YYYY-MM-DD)") from None
    if problem := date_problem(day):
        raise ValueError(problem)
    return day


@functools.lru_cache(maxsize=4096)
def _accepted(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{_quoted(value)} is not a date-time (ISO 8601)") from None
    if problem := date_problem(moment):
        raise ValueError(problem)
    return moment.replace(tzinfo=WARSAW) if moment.tzinfo is None else moment


def _choice(kind: type[E]) -> Callable[[str], E]:
    by_value = {k.value: k for k in kind}
    known = "|".join(by_value)

    def parse(value: str) -> E:
        found = by_value.get(value.lower())
        if found is None:
            raise ValueError(f"{_quoted(value)} is not one of {known}")
        return found

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


_PLAN = _choice(Plan)
_BILLING = _choice(Billing)
_NUMBER = _limited("number", _required)
_CUSTOMER = _limited("customer", _required)
_SITE_URL = _limited("site_url", _url)
_EMAIL_ADDRESS = _limited("email", _email)


def _contract(row: dict[str, str], region: str) -> Contract:
    """One row's contract; a ValueError names the first bad field (in this order)."""
    plan = _field(row["plan"].strip(), "plan", _PLAN)
    billing = _field(row["billing"].strip(), "billing", _BILLING)

    def phones(value: str) -> tuple[str, ...]:
        numbers = [p for p in (p.strip() for p in value.split(";")) if p]
        if not numbers and plan.covers_phone:
            raise ValueError(f"a {plan} plan names at least one phone number")
        return tuple(dict.fromkeys([to_e164(p, region) for p in numbers]))

    paid_from = _field(row["paid_from"].strip(), "paid_from", _date)
    paid_until = _field(row["paid_until"].strip(), "paid_until", _date)
    if paid_until < paid_from:
        raise ValueError(f"paid_until {paid_until} is before paid_from {paid_from}")
    return Contract(
        number=_field(row["number"].strip(), "number", _NUMBER),
        customer=_field(row["customer"].strip(), "customer", _CUSTOMER),
        plan=plan,
        billing=billing,
        paid_from=paid_from,
        paid_until=paid_until,
        product=_field(row["product"].strip(), "product", Product.parse),
        site_url=_field(row["site_url"].strip(), "site_url", _SITE_URL),
        phones=_field(row["phones"].strip(), "phones", phones),
        email=_field(row["email"].strip(), "email", _EMAIL_ADDRESS),
        accepted_at=_field(row["accepted_at"].strip(), "accepted_at", _accepted),
        daily_units=_field(row["daily_units"].strip(), "daily_units", _units),
    )
