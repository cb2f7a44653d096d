"""Service levels from per-day tallies (domain/report_tallies.py): hand-worked merges, and
the same figures as domain/reports.py computes from the calls, on random calls."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.domain import report_tallies as rt
from callcenter.domain.calendar import WARSAW, Calendar
from callcenter.domain.reports import (
    CallbackFacts,
    CallFacts,
    RingFacts,
    by_contract,
    by_day,
    by_hour,
    by_operator,
    figures,
)

NOV = date(2026, 11, 1)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=WARSAW)


def queued_call(id: int, when: datetime, wait: float, outcome: str = "answered") -> CallFacts:
    return CallFacts(
        id=id, arrived=when, direction="inbound", route="queue", reason="covered",
        outcome=outcome, operator="op1" if outcome == "answered" else None, contract="K-1",
        queued=when + timedelta(seconds=4), wait_seconds=wait,
        talk_seconds=60.0 if outcome == "answered" else None,
        rings=(RingFacts("op1", wait, "answered" if outcome == "answered" else "no_answer"),),
    )  # fmt: skip


def report(
    calls: list[CallFacts], cbs: list[CallbackFacts], first: date, last: date
) -> rt.ServiceLevels:
    merged = rt.merge_range(rt.tallies(calls, cbs).items())
    return rt.service_levels(merged, first, last, Calendar())


def test_p90_of_two_days_is_the_nearest_rank_of_all_their_waits() -> None:
    # Monday 23rd: waits 5, 50; Tuesday 24th: waits 10, 20, 30, 40, 60, 70, 80, 90.
    # All ten sorted: 5 10 20 30 40 50 60 70 80 90 -> rank ceil(0.9*10)=9 -> 80.
    # (Per-day p90s would be 50 and 90: neither is the range's.)
    monday = [queued_call(1, at(23, 9), 5.0), queued_call(2, at(23, 10), 50.0, "abandoned")]
    tuesday = [queued_call(10 + i, at(24, 9, i), w) for i, w in enumerate(
        (10.0, 20.0, 30.0, 40.0, 60.0, 70.0, 80.0, 90.0))]  # fmt: skip
    r = report(monday + tuesday, [], date(2026, 11, 23), date(2026, 11, 24))
    assert r.total.wait_p90 == 80.0
    assert r.total.wait_avg == 45.5  # 455 / 10
    assert [d.figures.wait_p90 for d in r.days] == [50.0, 90.0]
    # answered within 20 s: 5 (Mon), 10 and 20 (Tue); within 60 s: all answered but 70, 80, 90
    assert (r.total.answered_within_20, r.total.answered_within_60) == (3, 6)
    assert r.total.service_level_20 == 3 / 10
    assert (r.total.queued, r.total.answered, r.total.abandoned) == (10, 9, 1)


def test_a_range_without_queued_calls_has_no_service_level() -> None:
    closed = CallFacts(
        id=1, arrived=at(28, 10), direction="inbound", route="closed", reason="weekend",
        outcome="rejected", operator=None, contract=None, queued=None, wait_seconds=None,
        talk_seconds=None,
    )  # fmt: skip
    r = report([closed], [], date(2026, 11, 28), date(2026, 11, 29))
    assert r.total.queued == 0 and r.total.service_level_20 is None
    assert r.total.wait_p90 is None and r.total.wait_avg is None
    # Saturday had a call and is listed; Sunday had none and is not a working day
    assert [(d.day.day, d.working_day) for d in r.days] == [(28, False)]
    assert r.rejections == (("closed", "weekend", 1),)


def test_callbacks_count_on_the_day_and_contract_of_their_first_call() -> None:
    missed = queued_call(1, at(24, 10), 30.0, "abandoned")
    cbs = [
        CallbackFacts(1, "K-1", at(24, 10), at(25, 16), at(25, 15, 59)),  # in time
        CallbackFacts(2, "K-1", at(24, 11), at(25, 16), at(25, 16, 1)),  # a minute late
        CallbackFacts(3, "K-1", at(25, 9), at(26, 16), None),  # open
    ]
    r = report([missed], cbs, date(2026, 11, 24), date(2026, 11, 25))
    tue, wed = r.days
    assert (tue.figures.callbacks_made, tue.figures.callbacks_in_time) == (2, 1)
    assert (wed.figures.callbacks_made, wed.figures.callbacks_in_time) == (1, 0)
    [k1] = r.contracts
    assert (k1.figures.callbacks_made, k1.figures.callbacks_in_time) == (3, 1)


def test_merge_adds_counts_and_joins_values() -> None:
    a = rt.Tally(offered=2, queued=1, waits=(3.0,), talks=(10.0,))
    b = rt.Tally(offered=1, queued=2, waits=(1.0, 2.0), rings=(4.0,))
    m = rt.merge(a, b)
    assert (m.offered, m.queued) == (3, 3)
    assert sorted(m.waits) == [1.0, 2.0, 3.0] and m.talks == (10.0,) and m.rings == (4.0,)


# --- the tallies' figures are the calls' figures -------------------------------------------

OUTCOMES = ("answered", "abandoned", "unanswered", "rejected", "failed", None)
waits = st.floats(min_value=0, max_value=600, allow_nan=False, allow_infinity=False)


@st.composite
def calls_and_callbacks(draw: st.DrawFn) -> tuple[list[CallFacts], list[CallbackFacts]]:
    n = draw(st.integers(0, 40))
    calls = []
    for i in range(n):
        arrived = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(
            minutes=draw(st.integers(0, 60 * 24 * 20))
        )
        outcome = draw(st.sampled_from(OUTCOMES))
        queued = draw(st.booleans()) and outcome != "rejected"
        ops = draw(st.lists(st.sampled_from(("op1", "op2", "op3")), max_size=3))
        rings = tuple(
            RingFacts(op, draw(st.none() | waits), draw(st.sampled_from(
                ("answered", "no_answer", "busy", "unavailable", "cancelled"))))
            for op in ops
        )  # fmt: skip
        calls.append(
            CallFacts(
                id=i + 1,
                arrived=arrived,
                direction=draw(st.sampled_from(("inbound", "inbound", "callback"))),
                route=draw(st.sampled_from(("queue", "closed", "no_contract", None))),
                reason=draw(st.sampled_from(("covered", "weekend", "x,y", None))),
                outcome=outcome,
                operator=draw(st.sampled_from((None, "op1", "op2"))),
                contract=draw(st.sampled_from((None, "", "K-1", "K,2", "K\x1f3"))),
                queued=arrived + timedelta(seconds=3) if queued else None,
                wait_seconds=draw(st.none() | waits) if queued else None,
                talk_seconds=draw(st.none() | waits),
                rings=rings,
            )
        )
    cbs = []
    for i in range(draw(st.integers(0, 6))):
        first = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(hours=draw(st.integers(0, 480)))
        due = first + timedelta(hours=draw(st.integers(1, 48)))
        done = draw(st.none() | st.just(first + timedelta(hours=draw(st.integers(0, 60)))))
        cbs.append(
            CallbackFacts(i + 1, draw(st.sampled_from((None, "K-1", "K,2"))), first, due, done)
        )
    return calls, cbs


@settings(max_examples=150, deadline=None)
@given(calls_and_callbacks(), st.integers(0, 10), st.integers(0, 15))
def test_tally_figures_equal_the_figures_of_the_calls(
    data: tuple[list[CallFacts], list[CallbackFacts]], start: int, length: int
) -> None:
    calls, cbs = data
    first = NOV + timedelta(days=start)
    last = first + timedelta(days=length)
    # what a report of [first, last] reads from the log: calls and callbacks of its days
    in_range = [c for c in calls if first <= c.arrived.astimezone(WARSAW).date() <= last]
    cbs_in = [cb for cb in cbs if first <= cb.first_call.astimezone(WARSAW).date() <= last]
    # the store keeps every day's tallies; the report merges those of its range
    every_day = rt.tallies(calls, cbs)
    merged = rt.merge_range((k, t) for k, t in every_day.items() if first <= k[0] <= last)
    r = rt.service_levels(merged, first, last, Calendar())
    assert r.days == by_day(in_range, cbs_in, first, last, Calendar())
    assert r.operators == by_operator(in_range)
    assert r.contracts == by_contract(in_range, cbs_in)
    assert r.hours == by_hour(in_range)
    listed = {d.day for d in r.days}
    counted = [c for c in in_range if c.arrived.astimezone(WARSAW).date() in listed]
    counted_cbs = [cb for cb in cbs_in if cb.first_call.astimezone(WARSAW).date() in listed]
    assert r.total == figures(counted, counted_cbs)


@settings(max_examples=60, deadline=None)
@given(calls_and_callbacks())
def test_a_whole_months_stored_figures_equal_its_tallies_figures(
    data: tuple[list[CallFacts], list[CallbackFacts]],
) -> None:
    """What a whole month stores when its tallies merge (range_figures, days_figures) gives
    the report its tallies give, whenever the stored days serve the calendar."""
    calls, cbs = data
    first, last = date(2026, 11, 1), date(2026, 11, 30)
    merged = rt.merge_range((k, t) for k, t in rt.tallies(calls, cbs).items() if k[0] <= last)
    stored_days = rt.days_figures(merged)
    slow = rt.service_levels(merged, first, last, Calendar())
    if stored_days.serves(Calendar()):
        fast = rt.service_levels({}, first, last, Calendar(), rt.range_figures(merged), stored_days)
        assert fast == slow


def test_a_callback_only_day_off_is_not_served_by_stored_days() -> None:
    # a callback first called on Saturday 28 November with no call that day in the log
    cb = CallbackFacts(1, "K-1", at(28, 10), at(30, 16), None)
    merged = rt.merge_range(rt.tallies([], [cb]).items())
    stored = rt.days_figures(merged)
    assert stored.quiet == (date(2026, 11, 28),) and not stored.serves(Calendar())
    # the report leaves the day off out, and its callback with it
    r = rt.service_levels(merged, date(2026, 11, 23), date(2026, 11, 29), Calendar())
    assert r.total.callbacks_made == 0 and date(2026, 11, 28) not in {d.day for d in r.days}
