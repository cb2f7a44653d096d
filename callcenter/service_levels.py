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
from callcenter.domain.report_tallies import ServiceLevels, service_levels
from callcenter.services import calendar
from callcenter.store import db, report_tallies

log = logging.getLogger(__name__)

MAX_DAYS = 366  # the longest range a report covers: a year
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)  # the days the rules work with


class RangeError(ValueError):
    """A report's range that cannot be read: names the field (`since` or `until`)."""

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
        raise RangeError("until", "koniec zakresu przed jego początkiem")
    if (last - first).days + 1 > MAX_DAYS:
        raise RangeError("until", f"zakres dłuższy niż {MAX_DAYS} dni")
    return DateRange(first, last)


def _day(field: str, text: str) -> date:
    try:
        if len(text) != 10:
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise RangeError(field, "data w postaci RRRR-MM-DD") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise RangeError(field, f"data spoza lat {FIRST_DAY.year}-{LAST_DAY.year}")
    return day


def report(sessions: sessionmaker[Session], span: DateRange, now: datetime) -> ServiceLevels:
    """Every figure of the range: its changed days built first (one transaction), so today
    is current; then the tallies read (another)."""
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
                return service_levels({}, span.first, span.last, cal, *known)
            if known is not None:
                merged = report_tallies.merged(session, span.first, span.last, today, False)
                return service_levels(merged, span.first, span.last, cal, known[0])
        merged = report_tallies.merged(session, span.first, span.last, today)
    return service_levels(merged, span.first, span.last, cal)
