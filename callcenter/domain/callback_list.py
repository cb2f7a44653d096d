"""Callbacks due (clause 3): a covered customer's missed call, to be returned by its due time.

The list an operator works from: soonest due first, and those past their due time marked
overdue (due by the end of the next working day: the calendar set `due_at` when the callback
was made).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Callback:
    id: int
    caller: str  # E.164
    contract: str | None
    first_call_at: datetime
    last_call_at: datetime
    calls: int
    due_at: datetime


@dataclass(frozen=True)
class DueCallback:
    callback: Callback
    overdue: bool


def due_list(callbacks: Iterable[Callback], now: datetime) -> list[DueCallback]:
    """Open callbacks by due time (then by id), each marked overdue when `now` is past it."""
    ordered = sorted(callbacks, key=lambda c: (c.due_at, c.id))
    return [DueCallback(callback=c, overdue=now > c.due_at) for c in ordered]
