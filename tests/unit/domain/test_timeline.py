"""A call's timeline (domain/timeline.py): the steps of hand-worked calls, each at its time,
oldest first, ties in the order a call goes through."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from callcenter.domain.timeline import (
    AttemptFact,
    CallbackFact,
    CallFacts,
    RingFact,
    Step,
    StepKind,
    TicketFact,
    timeline,
)

T = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T + timedelta(seconds=seconds)


def test_an_answered_call_after_a_missed_ring_with_its_ticket() -> None:
    call = CallFacts(
        arrived=at(0),
        decided=at(0.1),
        route="queue",
        reason="covered",
        rule="queue",
        why="contract K-1 covers phone calls",
        queued=at(4),
        answered=at(25),
        ended=at(205),
        operator="op2",
        outcome="answered",
        rings=(RingFact("op1", at(4), 15.0, "no_answer"), RingFact("op2", at(20), 5.0, "answered")),
        ticket=TicketFact(7, at(210), "open", "answer"),
    )
    assert timeline(call) == [
        Step(at(0), StepKind.ARRIVED),
        Step(
            at(0.1),
            StepKind.DECIDED,
            route="queue",
            reason="covered",
            rule="queue",
            why="contract K-1 covers phone calls",
        ),
        Step(at(4), StepKind.QUEUED),
        Step(at(4), StepKind.RUNG, operator="op1", seconds=15.0, result="no_answer"),
        Step(at(20), StepKind.RUNG, operator="op2", seconds=5.0, result="answered"),
        Step(at(25), StepKind.ANSWERED, operator="op2"),
        Step(at(205), StepKind.ENDED, result="answered"),
        Step(at(210), StepKind.TICKET, result="open", reason="answer", ref=7),
    ]


def test_an_abandoned_call_makes_a_callback_with_two_attempts() -> None:
    call = CallFacts(
        arrived=at(0), decided=at(0), route="queue", reason="covered", queued=at(3),
        ended=at(50), outcome="abandoned", queue_left=at(48), queue_abandoned=True,
        rings=(RingFact("op1", at(3), 15.0, "no_answer"),),
        callback=CallbackFact(3, at(50), at(86450), (
            AttemptFact("op1", at(600), at(630), "no_answer"),
            AttemptFact("op2", at(900), None, None),
        )),
    )  # fmt: skip
    steps = timeline(call)
    assert [(s.at, s.kind) for s in steps] == [
        (at(0), StepKind.ARRIVED),
        (at(0), StepKind.DECIDED),
        (at(3), StepKind.QUEUED),
        (at(3), StepKind.RUNG),
        (at(48), StepKind.ABANDONED),
        (at(50), StepKind.ENDED),
        (at(50), StepKind.CALLBACK),
        (at(600), StepKind.CALLBACK_ATTEMPT),
        (at(900), StepKind.CALLBACK_ATTEMPT),
    ]
    assert steps[4].seconds == 45.0  # waited from 3 s to 48 s
    assert steps[6] == Step(at(50), StepKind.CALLBACK, ref=3, due=at(86450))
    assert (steps[7].operator, steps[7].seconds, steps[7].result) == ("op1", 30.0, "no_answer")
    assert (steps[8].seconds, steps[8].result) == (None, None)  # under way


def test_the_queue_giving_up_is_a_timeout_and_pressing_1_a_callback_request() -> None:
    base = CallFacts(arrived=at(0), route="queue", reason="covered", queued=at(2), ended=at(302))
    timeout = timeline(
        replace(base, outcome="unanswered", queue_status="TIMEOUT", queue_left=at(300))
    )
    assert (timeout[3].kind, timeout[3].at, timeout[3].seconds) == (StepKind.TIMEOUT, at(300), 298)
    pressed = timeline(replace(base, outcome="callback_requested", queue_status="CALLBACK"))
    assert pressed[3].kind is StepKind.CALLBACK_REQUESTED and pressed[3].at == at(302)
    other = timeline(replace(base, queue_status="FULL", queue_left=at(2)))
    assert (other[3].kind, other[3].result, other[3].seconds) == (StepKind.LEFT_QUEUE, "FULL", 0.0)


def test_a_rejected_call_is_arrival_decision_and_end_without_a_rule_it_did_not_log() -> None:
    call = CallFacts(arrived=at(0), decided=at(0.2), route="closed", reason="weekend",
                     ended=at(12), outcome="rejected")  # fmt: skip
    assert timeline(call) == [
        Step(at(0), StepKind.ARRIVED),
        Step(at(0.2), StepKind.DECIDED, route="closed", reason="weekend"),
        Step(at(12), StepKind.ENDED, result="rejected"),
    ]


def test_a_call_still_waiting_has_no_leaving_step_and_no_end() -> None:
    call = CallFacts(arrived=at(0), route="queue", reason="covered", queued=at(2),
                     rings=(RingFact("op1", at(2), None, "ringing"),))  # fmt: skip
    assert [s.kind for s in timeline(call)] == [
        StepKind.ARRIVED, StepKind.DECIDED, StepKind.QUEUED, StepKind.RUNG,
    ]  # fmt: skip
    # An undecided call (the listener saw it before the routing service logged it).
    assert timeline(CallFacts(arrived=at(0))) == [Step(at(0), StepKind.ARRIVED)]
