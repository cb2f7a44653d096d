"""Service-level figures (domain/reports.py), against hand-worked examples."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from callcenter.domain import reports
from callcenter.domain.calendar import WARSAW, Calendar
from callcenter.domain.reports import (
    CallbackFacts,
    CallFacts,
    RingFacts,
    by_contract,
    by_day,
    by_hour,
    by_operator,
    call_facts,
    callback_facts,
    figures,
    percentile,
    rejections_by_reason,
)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=WARSAW)


def call(
    id: int,
    arrived: datetime,
    outcome: str,
    *,
    route: str = "queue",
    reason: str = "covered",
    wait: float | None = None,
    talk: float | None = None,
    operator: str | None = None,
    contract: str | None = "K-1",
    rings: tuple[RingFacts, ...] = (),
    direction: str = "inbound",
) -> CallFacts:
    queued = arrived + timedelta(seconds=5) if wait is not None else None
    return CallFacts(
        id=id,
        arrived=arrived,
        direction=direction,
        route=route,
        reason=reason,
        outcome=outcome,
        operator=operator,
        contract=contract,
        queued=queued,
        wait_seconds=wait,
        talk_seconds=talk,
        rings=rings,
    )


# Tuesday 2026-11-24: five offered calls and one callback call we placed.
TUESDAY = [
    call(1, at(24, 9), "answered", wait=10, talk=120, operator="op1",
         rings=(RingFacts("op1", 10, "answered"),)),
    call(2, at(24, 9, 30), "answered", wait=45, talk=60, operator="op2",
         rings=(RingFacts("op1", 15, "no_answer"), RingFacts("op2", 30, "answered"))),
    call(3, at(24, 10), "abandoned", wait=30, rings=(RingFacts("op1", 30, "cancelled"),)),
    call(4, at(24, 11), "unanswered", wait=60, contract="K-2"),
    call(5, at(24, 17), "rejected", route="closed", reason="outside_hours"),
    call(6, at(24, 12), "answered", talk=300, operator="op1", direction="callback"),
]  # fmt: skip
SATURDAY = [
    call(7, at(28, 10), "rejected", route="closed", reason="weekend", contract=None),
    call(8, at(28, 11), "rejected", route="no_contract", reason="unknown_number", contract=None),
]
CALLBACKS = [
    # opened by call 3 (abandoned Tuesday), returned Wednesday before its due time
    CallbackFacts(1, "K-1", at(24, 10), at(25, 16), at(25, 9)),
    # opened by call 4, returned late
    CallbackFacts(2, "K-2", at(24, 11), at(25, 16), at(26, 8)),
    # opened by call 5, still open
    CallbackFacts(3, "K-1", at(24, 17), at(26, 16), None),
]


def test_figures_of_a_day_worked_by_hand() -> None:
    f = figures(TUESDAY, CALLBACKS)
    # the callback call (6) is not offered
    assert (f.offered, f.answered, f.abandoned, f.unanswered, f.rejected, f.failed) == (
        5, 2, 1, 1, 1, 0,
    )  # fmt: skip
    # queued: 1, 2, 3, 4 (the closed call never reached the queue)
    assert f.queued == 4
    # answered within 20 s: call 1 (10 s); within 60 s: calls 1 and 2 (45 s)
    assert (f.answered_within_20, f.answered_within_60) == (1, 2)
    assert f.service_level_20 == pytest.approx(1 / 4)
    assert f.service_level_60 == pytest.approx(2 / 4)
    # waits 10, 45, 30, 60: mean 36.25; p90 by nearest rank: ceil(0.9*4)=4th = 60
    assert f.wait_avg == pytest.approx(36.25)
    assert f.wait_p90 == 60
    # talk of the answered offered calls: 120 and 60
    assert f.talk_avg == pytest.approx(90.0)
    assert (f.callbacks_made, f.callbacks_in_time) == (3, 1)
    assert f.rejected_by == (("closed", "outside_hours", 1),)


def test_nothing_queued_has_no_service_level() -> None:
    f = figures(SATURDAY)
    assert f.queued == 0
    assert f.service_level_20 is None and f.wait_avg is None and f.wait_p90 is None
    assert f.rejected_by == (("closed", "weekend", 1), ("no_contract", "unknown_number", 1))


def test_percentile_nearest_rank() -> None:
    assert percentile([], 90) is None
    assert percentile([7.0], 90) == 7.0
    values = [float(v) for v in range(1, 11)]  # 1..10
    assert percentile(values, 90) == 9.0  # ceil(9.0) = 9th
    assert percentile(values, 50) == 5.0
    assert percentile(values, 100) == 10.0
    assert percentile([3.0, 1.0, 2.0], 90) == 3.0


def test_by_day_lists_working_days_and_days_with_calls() -> None:
    days = by_day(TUESDAY + SATURDAY, CALLBACKS, date(2026, 11, 23), date(2026, 11, 29), Calendar())
    # Mon-Fri are working days (no holiday that week); Saturday had calls, Sunday did not
    assert [(d.day.day, d.working_day) for d in days] == [
        (23, True), (24, True), (25, True), (26, True), (27, True), (28, False),
    ]  # fmt: skip
    tuesday = days[1].figures
    assert tuesday == figures(TUESDAY, CALLBACKS)
    assert days[0].figures.offered == 0 and days[0].figures.callbacks_made == 0
    assert days[5].figures.rejected == 2


def test_by_day_counts_a_call_on_its_warsaw_day() -> None:
    # 23:30 UTC on the 24th is 00:30 on the 25th in Warsaw
    late = call(9, datetime(2026, 11, 24, 23, 30, tzinfo=UTC), "rejected", route="closed",
                reason="outside_hours")  # fmt: skip
    days = by_day([late], [], date(2026, 11, 24), date(2026, 11, 25), Calendar())
    assert [(d.day.day, d.figures.offered) for d in days] == [(24, 0), (25, 1)]


def test_by_day_skips_a_holiday_without_calls() -> None:
    # 2026-11-11 (Wednesday) is Independence Day
    days = by_day([], [], date(2026, 11, 10), date(2026, 11, 12), Calendar())
    assert [d.day.day for d in days] == [10, 12]


def test_by_operator() -> None:
    rows = {r.operator: r for r in by_operator(TUESDAY)}
    assert set(rows) == {"op1", "op2"}
    op1, op2 = rows["op1"], rows["op2"]
    # op1 rang for calls 1, 2, 3; answered 1 (and the callback call 6, talk 300)
    assert (op1.rung, op1.answered, op1.missed_rings) == (3, 2, 1)
    assert op1.answered_within_20 == 1  # call 1 waited 10 s; call 6 has no wait
    assert op1.ring_avg == pytest.approx(10.0)
    assert op1.talk_avg == pytest.approx(210.0) and op1.talk_total == pytest.approx(420.0)
    assert (op2.rung, op2.answered, op2.missed_rings, op2.answered_within_20) == (1, 1, 0, 0)
    assert op2.ring_avg == pytest.approx(30.0) and op2.talk_avg == pytest.approx(60.0)


def test_by_contract() -> None:
    rows = by_contract(TUESDAY + SATURDAY, CALLBACKS)
    assert [r.contract for r in rows] == ["K-1", "K-2"]
    k1, k2 = rows[0].figures, rows[1].figures
    assert (k1.offered, k1.answered, k1.abandoned, k1.rejected) == (4, 2, 1, 1)
    assert (k1.callbacks_made, k1.callbacks_in_time) == (2, 1)
    assert (k2.offered, k2.unanswered, k2.callbacks_made, k2.callbacks_in_time) == (1, 1, 1, 0)


def test_by_hour_and_rejections() -> None:
    hours = by_hour(TUESDAY + SATURDAY)
    assert len(hours) == 24
    assert (hours[9].offered, hours[9].answered) == (2, 2)
    assert (hours[10].offered, hours[10].answered, hours[10].rejected) == (2, 0, 1)
    assert (hours[17].offered, hours[17].rejected) == (1, 1)
    assert hours[12].offered == 0  # the callback call is not offered
    assert rejections_by_reason(TUESDAY + SATURDAY) == [
        ("outside_hours", 1), ("unknown_number", 1), ("weekend", 1),
    ]  # fmt: skip


def test_facts_from_the_json_the_cli_prints() -> None:
    item = {
        "id": 12,
        "arrived": "2026-11-24T09:00:00+01:00",
        "queued": "2026-11-24T09:00:04+01:00",
        "route": "queue",
        "reason": "covered",
        "outcome": "answered",
        "operator": "op1",
        "contract": "K/7, (b)",
        "wait_seconds": 3.5,
        "talk_seconds": 40.0,
        "rings": [{"operator": "op1", "started": "x", "seconds": 3.5, "result": "answered"}],
        "callback": None,
    }
    facts = call_facts(item)
    assert facts.inbound and facts.contract == "K/7, (b)"
    assert facts.rings == (RingFacts("op1", 3.5, "answered"),)
    assert figures([facts]).answered_within_20 == 1
    cb = callback_facts(
        {"id": 1, "contract": None, "first_call": "2026-11-24T17:00:00+01:00",
         "due": "2026-11-25T16:00:00+01:00", "done": "2026-11-25T10:00:00+01:00"}
    )  # fmt: skip
    assert cb.in_time


def test_an_average_does_not_depend_on_the_order_of_the_calls() -> None:
    """The report from the store and from `calls list --json` list calls in other orders;
    their averages must agree to the last bit."""
    waits = [0.1, 0.2, 0.3]  # summed left to right: 0.6000000000000001, right to left: 0.6
    assert reports._mean(waits) == reports._mean(list(reversed(waits)))
    assert reports._mean(waits) == reports._mean(sorted(waits))
