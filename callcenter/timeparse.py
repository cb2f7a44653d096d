"""Times and dates typed by people: a naive time means Warsaw time (DESIGN.md, Time)."""

from __future__ import annotations

from datetime import date, datetime

from callcenter.domain.calendar import WARSAW
from callcenter.domain.dates import date_problem


def parse_time(text: str) -> datetime:
    """ISO 8601 date-time (or a bare date, meaning its midnight); naive means Warsaw."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: use ISO 8601, e.g. 2026-11-24T09:30 or "
            "2026-11-24T09:30:00+01:00"
        ) from None
    moment = moment.replace(tzinfo=WARSAW) if moment.tzinfo is None else moment
    if problem := date_problem(moment):
        raise ValueError(problem)
    return moment


def parse_date(text: str) -> date:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a date: use YYYY-MM-DD") from None
    if problem := date_problem(day):
        raise ValueError(problem)
    return day
