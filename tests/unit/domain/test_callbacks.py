"""Returning callbacks (domain/callbacks.py): the rules, and the originated call followed
from synthetic Asterisk 22 events shaped like the real ones (Originate with ChannelId)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callcenter.domain.callbacks import (
    STALE_ATTEMPT,
    AttemptResult,
    CallbackProgress,
    OutboundCall,
    OutboundState,
    OutboundTracker,
    after_attempt,
    attempt_linkedid,
    attempt_of,
    attempt_result,
    closes_callback,
    counts_as_attempt,
    refusal,
)
from callcenter.domain.calls import Outcome, Tracker

T0 = 1_764_500_000.0
LID = attempt_linkedid(7, "0a1b2c3d")
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def ev(name: str, t: float, **fields: str) -> dict[str, str]:
    base = {"Event": name, "Timestamp": f"{T0 + t:.6f}", "Linkedid": LID, "Uniqueid": LID}
    return {**base, **fields}


def at(t: float) -> datetime:
    return datetime.fromtimestamp(T0 + t, tz=UTC)


OPERATOR = "PJSIP/op2-00000004"
TRUNK = {"Uniqueid": "1764500003.5", "Channel": "PJSIP/trunk-00000005"}


def operator_answers() -> list[dict[str, str]]:
    return [
        ev("Newchannel", 0, Channel=OPERATOR, ChannelState="0"),
        ev("Newstate", 0.1, Channel=OPERATOR, ChannelState="5"),  # ringing
        ev("Newstate", 3, Channel=OPERATOR, ChannelState="6"),  # answered
        ev("Newchannel", 3.1, **TRUNK),
        ev(
            "DialBegin",
            3.1,
            Channel=OPERATOR,
            DestChannel=TRUNK["Channel"],
            DialString="+48601000001@trunk",
        ),
    ]


def feed(events: list[dict[str, str]]) -> tuple[OutboundTracker, list[OutboundCall]]:
    tracker = OutboundTracker()
    changes = [tracker.feed(e, at(0)) for e in events]
    return tracker, [c for c in changes if c is not None]


@pytest.mark.parametrize(
    ("operator_answered", "dial_status", "result"),
    [
        (True, "ANSWER", AttemptResult.REACHED),
        (True, "BUSY", AttemptResult.BUSY),
        (True, "NOANSWER", AttemptResult.NO_ANSWER),
        (True, "CANCEL", AttemptResult.NO_ANSWER),
        (True, "CHANUNAVAIL", AttemptResult.UNREACHABLE),
        (True, "CONGESTION", AttemptResult.UNREACHABLE),
        (True, "", AttemptResult.FAILED),
        (False, "", AttemptResult.OPERATOR_NO_ANSWER),
    ],
)
def test_the_result_of_an_attempt(
    operator_answered: bool, dial_status: str, result: AttemptResult
) -> None:
    assert attempt_result(operator_answered, dial_status) is result


@pytest.mark.parametrize(
    ("result", "counted", "closes"),
    [
        (AttemptResult.REACHED, True, True),
        (AttemptResult.NO_ANSWER, True, False),
        (AttemptResult.BUSY, True, False),
        (AttemptResult.UNREACHABLE, True, False),
        (AttemptResult.OPERATOR_NO_ANSWER, False, False),
        (AttemptResult.FAILED, False, False),
    ],
)
def test_what_counts_and_what_closes(result: AttemptResult, counted: bool, closes: bool) -> None:
    assert counts_as_attempt(result) is counted
    assert closes_callback(result) is closes
    after = after_attempt(CallbackProgress(2, None), result, NOW)
    assert after == CallbackProgress(3 if counted else 2, NOW if closes else None)


def test_a_done_callback_stays_done_when_reached_again() -> None:
    earlier = NOW - timedelta(hours=1)
    after = after_attempt(CallbackProgress(1, earlier), AttemptResult.REACHED, NOW)
    assert after == CallbackProgress(2, earlier)


def test_one_attempt_at_a_time_and_none_on_a_done_callback() -> None:
    assert refusal(None, None, NOW) is None
    assert refusal(NOW, None, NOW) == "is done already"
    assert refusal(None, NOW - timedelta(seconds=30), NOW) == "is being called back right now"
    assert refusal(None, NOW - STALE_ATTEMPT, NOW) is None  # its end was never seen


def test_the_linkedid_names_the_attempt_and_nothing_else() -> None:
    assert attempt_of(LID) == 7
    assert attempt_of("1764500000.10") is None
    assert attempt_of("cc-callback-7-0a1b2c3d-x") is None
    with pytest.raises(ValueError):
        attempt_linkedid(7, "not hex")


def test_a_reached_customer() -> None:
    tracker, changes = feed(
        [
            *operator_answers(),
            ev("DialEnd", 5, Channel=OPERATOR, DialStatus="ANSWER"),
            ev("Hangup", 9.1, **TRUNK, Cause="16"),
            ev("Hangup", 9.2, Channel=OPERATOR, Cause="16", **{"Cause-txt": "Normal Clearing"}),
        ]
    )
    call = changes[-1]
    assert call.state is OutboundState.ENDED
    assert call.result is AttemptResult.REACHED
    assert (call.operator, call.number, call.attempt_id) == ("op2", "+48601000001", 7)
    assert call.ring_seconds == pytest.approx(3)
    assert call.talk_seconds == pytest.approx(4.2)
    assert call.hangup_cause == "Normal Clearing"
    assert tracker.calls == {}


@pytest.mark.parametrize(("status", "result"), [("BUSY", "busy"), ("NOANSWER", "no_answer")])
def test_a_customer_who_does_not_take_it(status: str, result: str) -> None:
    _, changes = feed(
        [
            *operator_answers(),
            ev("DialEnd", 5, Channel=OPERATOR, DialStatus=status),
            ev("Hangup", 5.1, Channel=OPERATOR, Cause="16"),
        ]
    )
    call = changes[-1]
    assert call.result == result
    assert call.talk_seconds is None


def test_an_operator_who_does_not_answer() -> None:
    _, changes = feed(
        [
            ev("Newchannel", 0, Channel=OPERATOR, ChannelState="0"),
            ev("Newstate", 0.1, Channel=OPERATOR, ChannelState="5"),
            ev("Hangup", 20, Channel=OPERATOR, Cause="19"),
        ]
    )
    call = changes[-1]
    assert call.result is AttemptResult.OPERATOR_NO_ANSWER
    assert call.ring_seconds == pytest.approx(20)


def test_replayed_events_change_nothing_and_legs_alone_start_nothing() -> None:
    events = [*operator_answers(), ev("DialEnd", 5, Channel=OPERATOR, DialStatus="BUSY")]
    _, changes = feed(events + events)
    assert len(changes) == 4  # Newchannel, answered, dialling, busy: the replay adds nothing
    lone = OutboundTracker()
    assert lone.feed(ev("Newchannel", 1, **TRUNK), at(0)) is None


def test_the_inbound_tracker_is_not_given_an_attempt() -> None:
    assert OutboundTracker.claims(ev("Newchannel", 0, Channel=OPERATOR))
    assert not OutboundTracker.claims({**ev("Newchannel", 0), "Linkedid": "1764500000.10"})


def test_pressing_1_in_the_queue_is_its_own_outcome() -> None:
    lid = "1764500000.10"
    tracker = Tracker()
    base = {"Linkedid": lid, "Uniqueid": lid}
    stream = [
        {**base, "Event": "Newchannel", "Timestamp": str(T0), "CallerIDNum": "+48601000001"},
        {**base, "Event": "UserEvent", "Timestamp": str(T0 + 1), "UserEvent":
         "CallcenterDecision", "Route": "queue", "Reason": "covered", "Contract": "A-1"},
        {**base, "Event": "QueueCallerJoin", "Timestamp": str(T0 + 2)},
        {**base, "Event": "QueueCallerLeave", "Timestamp": str(T0 + 20)},
        {**base, "Event": "UserEvent", "Timestamp": str(T0 + 20), "UserEvent":
         "CallcenterQueueEnd", "Status": "CALLBACK"},
        {**base, "Event": "Hangup", "Timestamp": str(T0 + 25)},
    ]  # fmt: skip
    updates = [tracker.feed(e, at(0)) for e in stream]
    ended = updates[-1]
    assert ended is not None
    assert ended.call.outcome is Outcome.CALLBACK_REQUESTED
    assert ended.call.missed  # a covered caller's: becomes a callback (marked asked for)
    assert ended.call.wait_seconds == pytest.approx(18)
