"""The gap reconciliation (domain/reconcile.py) on hand-worked examples: Asterisk's
queue_log lines, CDR rows and live channels, as asterisk-conf/ makes Asterisk write them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from callcenter.domain.calls import Call, CallState, Outcome, QueueFacts, Ring, RingResult
from callcenter.domain.reconcile import (
    LiveChannel,
    adopt_live,
    close_from_records,
    parse_cdr_csv,
    parse_duration,
    parse_queue_log,
)

T0 = 1_796_055_500  # epoch seconds
LID = f"{T0}.10"
NOTICED = datetime.fromtimestamp(T0 + 300, UTC)


def at(t: float) -> datetime:
    return datetime.fromtimestamp(T0 + t, UTC)


def queue_log(*lines: str) -> str:
    """queue_log lines `offset|callid|queue|agent|event|data...`, offsets from T0."""
    out = []
    for line in lines:
        offset, rest = line.split("|", 1)
        out.append(f"{T0 + int(offset)}|{rest}")
    return "\n".join(out) + "\n"


def cdr(*, start: float, end: float, answer: float = 0, userfield: str = "",
        channel: str = "PJSIP/trunk-00000004", dstchannel: str = "",
        uniqueid: str = LID) -> str:  # fmt: skip
    """One CDR CSV row in asterisk-conf/cdr_custom.conf's columns."""
    fields = [
        f"{T0 + start}", f"{T0 + answer}" if answer else "", f"{T0 + end}",
        '"Ala" <+48601000001>', "+48601000001", "800123456", "cc-route", channel, dstchannel,
        "Queue", "support", str(int(end - start)), "0", "ANSWERED" if answer else "NO ANSWER",
        uniqueid, LID, userfield, "7",
    ]  # fmt: skip
    return ",".join(f'"{f}"' for f in fields)


def queued_call(**changes: object) -> Call:
    """What the listener knew when the gap began: queued, op1 ringing."""
    call = Call(
        LID, CallState.QUEUED, at(0), caller_raw="+48601000001", route="queue",
        reason="covered", contract="L-1", queued=at(7), rings=(Ring("op1", at(7)),),
    )  # fmt: skip
    return replace(call, **changes)


# --- reading the records ----------------------------------------------------------------------


def test_queue_log_lines_are_read_and_malformed_ones_skipped() -> None:
    text = queue_log(f"7|{LID}|support|NONE|ENTERQUEUE||+48601000001|1") + (
        "garbage\n\n1|2|3\nnot-a-number|x|support|NONE|ABANDON|1|1|5\n"
    )
    [entry] = parse_queue_log(text)
    assert (entry.at, entry.callid, entry.queue, entry.agent, entry.event) == (
        at(7), LID, "support", "NONE", "ENTERQUEUE")  # fmt: skip
    assert entry.data == ("", "+48601000001", "1")


def test_cdr_rows_are_read_with_our_userfield_and_short_rows_skipped() -> None:
    text = cdr(
        start=0, end=40, answer=12, userfield="route=queue;reason=covered;call=7;contract=L-1"
    )
    [row] = parse_cdr_csv(text + "\n" + '"1","2","3"\n')
    assert (row.start, row.answer, row.end) == (at(0), at(12), at(40))
    assert (row.uniqueid, row.linkedid, row.channel) == (LID, LID, "PJSIP/trunk-00000004")
    assert row.userfield == {"route": "queue", "reason": "covered", "call": "7", "contract": "L-1"}
    [unanswered] = parse_cdr_csv(cdr(start=0, end=9))
    assert unanswered.answer is None


def test_durations_of_live_channels() -> None:
    assert parse_duration("01:02:03") == 3723.0
    assert parse_duration("junk") == 0.0


# --- closing a call that ended in the gap -----------------------------------------------------


def test_answered_during_the_gap() -> None:
    """op2 rang 15 s unanswered (a ring the listener never saw), op1 answered after 9 s of
    ringing, the caller hung up at 40 s."""
    log = parse_queue_log(queue_log(
        f"7|{LID}|support|NONE|ENTERQUEUE||+48601000001|1",
        f"22|{LID}|support|op2|RINGNOANSWER|15000",
        f"16|{LID}|support|op1|CONNECT|9|{T0}.11|9",
        f"40|{LID}|support|op1|COMPLETECALLER|9|24|1",
        f"50|{T0}.99|support|NONE|ABANDON|1|1|3",  # another call: not this one's
    ))  # fmt: skip
    closed = close_from_records(queued_call(), log, parse_cdr_csv(cdr(start=0, end=40.5)), NOTICED)
    assert closed.state is CallState.ENDED
    assert closed.outcome is Outcome.ANSWERED
    assert (closed.operator, closed.answered, closed.ended) == ("op1", at(16), at(40.5))
    assert closed.rings == (
        Ring("op1", at(7), 9.0, RingResult.ANSWERED),
        Ring("op2", at(7), 15.0, RingResult.NO_ANSWER),
    )
    assert closed.wait_seconds == 9.0 and closed.talk_seconds == 24.5
    assert closed.hangup_cause == "reconciled from queue_log and CDR"


def test_abandoned_during_the_gap() -> None:
    log = parse_queue_log(queue_log(f"19|{LID}|support|NONE|ABANDON|1|1|12"))
    closed = close_from_records(queued_call(), log, [], NOTICED)
    assert closed.outcome is Outcome.ABANDONED
    assert closed.queue == QueueFacts(left=at(19), abandoned=True)
    assert closed.ended == at(19)
    assert closed.rings == (Ring("op1", at(7), 12.0, RingResult.CANCELLED),)


def test_the_queue_timed_out_during_the_gap() -> None:
    log = parse_queue_log(queue_log(f"67|{LID}|support|NONE|EXITWITHTIMEOUT|1|1|60"))
    closed = close_from_records(queued_call(), log, parse_cdr_csv(cdr(start=0, end=72)), NOTICED)
    assert closed.outcome is Outcome.UNANSWERED
    assert closed.queue == QueueFacts(left=at(67), status="TIMEOUT")
    assert closed.ended == at(72) and closed.wait_seconds == 60.0


def test_pressed_1_to_be_called_back_during_the_gap() -> None:
    log = parse_queue_log(queue_log(f"20|{LID}|support|NONE|EXITWITHKEY|1|1|1|13"))
    closed = close_from_records(queued_call(), log, [], NOTICED)
    assert closed.outcome is Outcome.CALLBACK_REQUESTED


def test_what_the_queue_said_before_the_gap_is_kept() -> None:
    """The listener saw the queue give up (the call log kept it across a restart); the
    records of the gap only add the hang-up."""
    known = queued_call(queue=QueueFacts(left=at(67), status="TIMEOUT"))
    log = parse_queue_log(queue_log(f"67|{LID}|support|NONE|EXITWITHTIMEOUT|1|1|60"))
    closed = close_from_records(known, log, parse_cdr_csv(cdr(start=0, end=72)), NOTICED)
    assert closed.outcome is Outcome.UNANSWERED
    assert closed.queue == QueueFacts(left=at(67), status="TIMEOUT")


def test_the_decision_from_the_cdr_userfield_when_the_listener_never_saw_it() -> None:
    known = Call(LID, CallState.ARRIVED, at(0), caller_raw="+48601000001")
    rows = parse_cdr_csv(cdr(start=0, end=8, userfield="route=closed;reason=weekend;contract=L-5"))
    closed = close_from_records(known, [], rows, NOTICED)
    assert (closed.route, closed.reason, closed.contract) == ("closed", "weekend", "L-5")
    assert (closed.outcome, closed.ended) == (Outcome.REJECTED, at(8))
    assert closed.hangup_cause == "reconciled from CDR"


def test_no_record_closes_the_call_when_the_gap_was_noticed() -> None:
    closed = close_from_records(queued_call(), [], [], NOTICED)
    assert (closed.ended, closed.outcome) == (NOTICED, Outcome.UNANSWERED)
    assert closed.hangup_cause == "reconciled from no record: closed when the gap was noticed"
    assert closed.rings[0].result is RingResult.CANCELLED


# --- adopting a call still up -----------------------------------------------------------------


def channel(name: str, uniqueid: str, seconds: float, app: str = "Queue",
            bridged: bool = False) -> LiveChannel:  # fmt: skip
    return LiveChannel(name, uniqueid, LID, app, seconds, "+48601000001", "Ala", "800123456",
                       bridged)  # fmt: skip


def test_an_unknown_call_waiting_in_the_queue_is_adopted_as_queued() -> None:
    adopted = adopt_live(LID, [channel("PJSIP/trunk-00000004", LID, 20)], NOTICED, None)
    assert adopted.state is CallState.QUEUED
    assert (adopted.arrived, adopted.queued) == (at(280), NOTICED)
    assert (adopted.caller_raw, adopted.caller_name, adopted.dialled) == (
        "+48601000001", "Ala", "800123456")  # fmt: skip


def test_a_call_in_talk_is_adopted_as_answered_by_the_bridged_operator() -> None:
    legs = [
        channel("PJSIP/trunk-00000004", LID, 60, bridged=True),
        channel("PJSIP/op2-00000006", f"{T0}.12", 45, app="AppQueue", bridged=True),
    ]
    adopted = adopt_live(LID, legs, NOTICED, queued_call())
    assert (adopted.state, adopted.operator, adopted.answered) == (
        CallState.ANSWERED, "op2", at(255))  # fmt: skip
    assert adopted.queued == at(7)  # what the listener knew is kept


def test_a_known_call_the_channels_say_nothing_new_of_is_unchanged() -> None:
    known = queued_call()
    assert adopt_live(LID, [channel("PJSIP/trunk-00000004", LID, 20)], NOTICED, known) == known
