"""A callback read back after an attempt (clause 3): a closed one is never overdue; what the
list carries about it (asked for, attempts, the newest result) is the store's, unchanged."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from builders import TUESDAY, at

from callcenter.domain.callback_list import Callback, due_item

NOW = at(TUESDAY, 12)
LATE = Callback(
    id=7, caller="+48601234567", contract="C-1", first_call_at=NOW - timedelta(days=2),
    last_call_at=NOW - timedelta(days=2), calls=1, due_at=NOW - timedelta(hours=3),
)  # fmt: skip


def test_an_open_callback_past_its_due_time_is_overdue() -> None:
    assert due_item(LATE, NOW).overdue is True


def test_a_callback_closed_by_a_reached_customer_is_not_overdue() -> None:
    done = replace(LATE, done_at=NOW, attempts=2, last_result="reached", requested=True)
    item = due_item(done, NOW)
    assert item.overdue is False
    assert (item.callback.attempts, item.callback.last_result, item.callback.requested) == (
        2, "reached", True)  # fmt: skip
