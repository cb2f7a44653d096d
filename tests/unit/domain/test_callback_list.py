"""Callbacks due (clause 3): soonest first, overdue ones marked."""

from __future__ import annotations

from datetime import timedelta

from builders import TUESDAY, at

from callcenter.domain.callback_list import Callback, due_list

NOW = at(TUESDAY, 12)


def callback(id: int, due_hours: float) -> Callback:
    return Callback(
        id=id,
        caller="+48601234567",
        contract="C-1",
        first_call_at=NOW - timedelta(days=1),
        last_call_at=NOW - timedelta(days=1),
        calls=1,
        due_at=NOW + timedelta(hours=due_hours),
    )


def test_by_due_time_then_id_overdue_marked() -> None:
    listed = due_list([callback(3, 2), callback(1, -1), callback(2, 2), callback(4, 0)], NOW)
    assert [(d.callback.id, d.overdue) for d in listed] == [
        (1, True),
        (4, False),  # due this very moment: not yet past it
        (2, False),
        (3, False),
    ]
