"""The days the rules work with: a date or time outside them is refused where it comes in.

The rules add days to dates (paid periods extended, the next opening, days given up to a
consolidation); near `date.max` that overflows. A date typed by a person or read from a file
is therefore checked at the edge against this range, and the error names it.
"""

from __future__ import annotations

from datetime import date, datetime

FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2999, 12, 31)


def date_problem(day: date | datetime) -> str | None:
    """Why `day` cannot be used, or None."""
    plain = day.date() if isinstance(day, datetime) else day
    if plain < FIRST_DAY or plain > LAST_DAY:
        return f"{plain.isoformat()} is outside the supported days {FIRST_DAY} to {LAST_DAY}"
    return None
