"""The service-level report of a date range: build what changed, read the tallies, call the
core (domain/report_tallies.py). The one use case behind `/reports`, `GET /api/reports/...`
and its CSV."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from callcenter.domain.calendar import warsaw
from callcenter.domain.report_tallies import ServiceLevels, service_levels, shown
from callcenter.services import calendar
from callcenter.store import db, report_merge, report_tallies

log = logging.getLogger(__name__)

MAX_DAYS = 366  # the longest range a report covers: a year
CONTRACTS_SHOWN = 100  # contracts a report lists by default (most calls first); CSV: all
MAX_CONTRACTS = 100_000  # the most a request may ask to list
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)  # the days the rules work with


class QueryError(ValueError):
    """A report's query that cannot be read: names the field (`since`, `until`,
    `contracts`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class DateRange:
    first: date
    last: date  # included


def this_month(now: datetime) -> DateRange:
    today = warsaw(now).date()
    return DateRange(today.replace(day=1), today)


def parse_range(since: str | None, until: str | None, now: datetime) -> DateRange:
    """The range of the query's `since` and `until` (YYYY-MM-DD, both days included;
    either missing: this month so far)."""
    default = this_month(now)
    first = _day("since", since) if since else default.first
    last = _day("until", until) if until else max(default.last, first)
    if last < first:
        raise QueryError("until", "koniec zakresu przed jego początkiem")
    if (last - first).days + 1 > MAX_DAYS:
        raise QueryError("until", f"zakres dłuższy niż {MAX_DAYS} dni")
    return DateRange(first, last)


def parse_contracts(text: str | None) -> int:
    """How many contracts to list (the query's `contracts`; missing: CONTRACTS_SHOWN)."""
    if text is None:
        return CONTRACTS_SHOWN
    if text.isascii() and text.isdigit() and len(text) <= 6 and 1 <= int(text) <= MAX_CONTRACTS:
        return int(text)
    raise QueryError("contracts", f"liczba umów od 1 do {MAX_CONTRACTS}")


def _day(field: str, text: str) -> date:
    try:
        if len(text) != 10:
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise QueryError(field, "data w postaci RRRR-MM-DD") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise QueryError(field, f"data spoza lat {FIRST_DAY.year}-{LAST_DAY.year}")
    return day


def report(
    sessions: sessionmaker[Session], span: DateRange, now: datetime, contracts: int | None = None
) -> ServiceLevels:
    """Every figure of the range: its changed days built first (one transaction), so today
    is current; then the tallies read (another). `contracts`: list only that many
    contracts, those with the most calls offered (`contracts_total` counts them all), their
    figures the only ones computed; None: every contract (the CSV)."""
    try:
        with db.transaction(sessions) as session:
            report_tallies.refresh(session, span.first, span.last, now)
    except IntegrityError:  # another report built the same days at the same moment
        log.info("report days built by another report first=%s last=%s", span.first, span.last)
    today = warsaw(now).date()
    with sessions() as session:
        cal = calendar(session)
        # a report of exactly one whole past month reads the figures computed when its
        # tallies were merged (its days' too, unless the calendar now leaves out a day that
        # had a tally)
        if report_tallies.whole_months(span.first, span.last, today) == [span.first] and (
            span.last.month == span.first.month
        ):
            known = report_tallies.month_figures(session, span.first)
            if known is not None and known[1].serves(cal):
                return shown(service_levels({}, span.first, span.last, cal, *known), contracts)
            if known is not None:
                merged = report_merge.merged(session, span.first, span.last, today, False)
                levels = service_levels(merged, span.first, span.last, cal, known[0])
                return shown(levels, contracts)
        if contracts is None:
            merged = report_merge.merged(session, span.first, span.last, today)
            return service_levels(merged, span.first, span.last, cal)
        top, total = report_merge.top_contracts(session, span.first, span.last, contracts)
        merged = report_merge.merged(session, span.first, span.last, today, contracts=top)
    return service_levels(merged, span.first, span.last, cal, contracts_total=total)
