"""Working time (clause 3): when support is given, when it opens next, when a request is due.

Theory of operation: a *working day* is Monday to Friday, not a Polish public holiday (the
`holidays` package, not a hand-kept list) and not a day of an announced closure. *Working time*
is 08:00 <= t < 16:00 Europe/Warsaw on a working day. A request received outside working time
counts as received at the next opening; it is due by the end (16:00) of the next working day
after the working day it counts on.

All datetimes are aware; naive ones are a programming error (ValueError).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache, cached_property
from zoneinfo import ZoneInfo

import holidays

from callcenter.domain.terms import Reason

WARSAW = ZoneInfo("Europe/Warsaw")
OPENS = time(8, 0)
CLOSES = time(16, 0)
# A calendar whose every day for ten years is closed is bad data, not a reason to loop forever.
_SEARCH_LIMIT_DAYS = 3660
# No request is due sooner than this after it arrives (`Calendar.due`): received in working
# time just before closing, it is due at the next working day's closing, 24 hours later less
# an hour when the clocks go forward; received later, it counts later. An answer given
# within it is never late; a store may use it to narrow the requests that can be.
SOONEST_DUE = timedelta(hours=23)


@dataclass(frozen=True)
class Closure:
    """An announced holiday closure of the support desk: every day from `first` to `last`."""

    first: date
    last: date
    note: str = ""
    id: int | None = None

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"closure ends ({self.last}) before it starts ({self.first})")

    def days(self) -> Iterable[date]:
        day = self.first
        while day <= self.last:
            yield day
            day += timedelta(days=1)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last


def warsaw(moment: datetime) -> datetime:
    """The same instant on Warsaw's wall clock; rejects naive datetimes."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime given to the rules: {moment!r}")
    return moment.astimezone(WARSAW)


def at_opening(day: date) -> datetime:
    return datetime.combine(day, OPENS, tzinfo=WARSAW)


def at_closing(day: date) -> datetime:
    return datetime.combine(day, CLOSES, tzinfo=WARSAW)


@cache
def _polish_holidays(year: int) -> dict[date, str]:
    """Poland's public holidays in `year` (the `holidays` package), by date; a pure table."""
    names = holidays.country_holidays("PL", years=year, language="en_US")
    return {day: str(name) for day, name in names.items()}


@dataclass(frozen=True)
class Calendar:
    """Working days and hours, given the announced closures."""

    closures: tuple[Closure, ...] = ()

    @cached_property
    def _closure_days(self) -> dict[date, Closure]:
        days: dict[date, Closure] = {}
        for closure in sorted(self.closures, key=lambda c: (c.first, c.last)):
            for day in closure.days():
                days.setdefault(day, closure)
        return days

    def holiday(self, day: date) -> str | None:
        """The name of the Polish public holiday on `day`, if any."""
        return _polish_holidays(day.year).get(day)

    def closure(self, day: date) -> Closure | None:
        return self._closure_days.get(day)

    def non_working_reason(self, day: date) -> Reason | None:
        """Why `day` is not a working day (weekend, then holiday, then closure), else None."""
        if day.weekday() >= 5:
            return Reason.WEEKEND
        if self.holiday(day) is not None:
            return Reason.HOLIDAY
        if self.closure(day) is not None:
            return Reason.CLOSURE
        return None

    def is_working_day(self, day: date) -> bool:
        return self.non_working_reason(day) is None

    def closed_reason(self, now: datetime) -> Reason | None:
        """None when `now` is working time, else the reason the desk is closed."""
        local = warsaw(now)
        reason = self.non_working_reason(local.date())
        if reason is not None:
            return reason
        if not OPENS <= local.time() < CLOSES:
            return Reason.OUTSIDE_HOURS
        return None

    def is_working_time(self, now: datetime) -> bool:
        return self.closed_reason(now) is None

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        candidate = day
        for _ in range(_SEARCH_LIMIT_DAYS):
            candidate += timedelta(days=1)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError(f"no working day within {_SEARCH_LIMIT_DAYS} days after {day}")

    def working_day_on_or_after(self, day: date) -> date:
        return day if self.is_working_day(day) else self.next_working_day(day)

    def next_open(self, now: datetime) -> datetime:
        """`now` itself during working time, else the next opening (08:00 of a working day)."""
        local = warsaw(now)
        if self.is_working_time(local):
            return local
        today = local.date()
        if self.is_working_day(today) and local.time() < OPENS:
            return at_opening(today)
        return at_opening(self.next_working_day(today))

    def received_on(self, received: datetime) -> date:
        """The working day a request counts as received on."""
        return self.next_open(received).date()

    def due(self, received: datetime) -> datetime:
        """When a request must be answered: end of the next working day after it counts."""
        local = warsaw(received)
        # The day it counts on depends only on its date and whether it came after closing.
        key = (local.date(), local.time() >= CLOSES)
        found = self._due_memo.get(key)
        if found is None:
            found = at_closing(self.next_working_day(self.received_on(received)))
            self._due_memo[key] = found
        return found

    @cached_property
    def _due_memo(self) -> dict[tuple[date, bool], datetime]:
        """Due times already worked out by this calendar (a long list asks for many)."""
        return {}
