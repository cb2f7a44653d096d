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
    requested: bool = False  # the caller pressed 1 in the queue to be called back
    attempts: int = 0  # attempts that dialled the customer (counted ones)
    last_result: str | None = None  # the newest attempt's result (AttemptResult), if ended
    under_way: bool = False  # an attempt is being placed or talking now
    done_at: datetime | None = None  # a reached customer closed it


@dataclass(frozen=True)
class DueCallback:
    callback: Callback
    overdue: bool


def due_item(callback: Callback, now: datetime) -> DueCallback:
    """One callback as the list shows it (a done one is never overdue)."""
    return DueCallback(
        callback=callback, overdue=callback.done_at is None and now > callback.due_at
    )


def due_list(callbacks: Iterable[Callback], now: datetime) -> list[DueCallback]:
    """Open callbacks by due time (then by id), each marked overdue when `now` is past it."""
    ordered = sorted(callbacks, key=lambda c: (c.due_at, c.id))
    return [due_item(c, now) for c in ordered]
