"""The wallboard's fold (domain/wallboard.py) against hand-worked event sequences: members'
states from their status events, waiting callers and their waits, the rebuild from a
QueueStatus answer, today's counters."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from builders import TUESDAY, at

from callcenter.domain.reports import CallFacts
from callcenter.domain.wallboard import (
    DEVICE_BUSY,
    DEVICE_INUSE,
    DEVICE_INVALID,
    DEVICE_NOT_INUSE,
    DEVICE_ONHOLD,
    DEVICE_RINGING,
    DEVICE_RINGINUSE,
    DEVICE_UNAVAILABLE,
    DEVICE_UNKNOWN,
    Board,
    MemberState,
    fold,
    fold_all,
    member_state,
    rebuild,
    today_bounds,
    today_counts,
    view,
)

T0 = at(TUESDAY, 10)


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def member(event: str, name: str = "op1", status: int = 1, paused: str = "0", **more: str):
    return {
        "Event": event,
        "Queue": "support",
        "MemberName": name,
        "Interface": f"PJSIP/{name}",
        "StateInterface": f"PJSIP/{name}",
        "Status": str(status),
        "Paused": paused,
        "PausedReason": "",
        "InCall": "0",
        **more,
    }


def agent(event: str, name: str = "op1", caller: str = "+48601000001") -> dict[str, str]:
    return {
        "Event": event,
        "Queue": "support",
        "Interface": f"PJSIP/{name}",
        "MemberName": name,
        "CallerIDNum": caller,
        "Uniqueid": "100.0",
    }


def caller(event: str, uniqueid: str, number: str = "+48601000001", position: int = 1):
    return {
        "Event": event,
        "Queue": "support",
        "Uniqueid": uniqueid,
        "CallerIDNum": number,
        "CallerIDName": "Jan Kowalski",
        "Position": str(position),
    }


def ops(board: Board) -> dict[str, str]:
    return {m.name: m.state.value for m in board.members.values()}


@pytest.mark.parametrize(
    ("status", "paused", "state"),
    [
        (DEVICE_NOT_INUSE, False, MemberState.FREE),
        (DEVICE_UNKNOWN, False, MemberState.FREE),  # the queue rings such a member
        (DEVICE_NOT_INUSE, True, MemberState.PAUSED),
        (DEVICE_RINGING, False, MemberState.RINGING),
        (DEVICE_INUSE, False, MemberState.TALKING),
        (DEVICE_BUSY, False, MemberState.TALKING),
        (DEVICE_ONHOLD, False, MemberState.TALKING),
        (DEVICE_RINGINUSE, False, MemberState.TALKING),
        (DEVICE_INUSE, True, MemberState.TALKING),  # paused during a call: the call shows
        (DEVICE_UNAVAILABLE, False, MemberState.UNREACHABLE),
        (DEVICE_INVALID, True, MemberState.UNREACHABLE),
    ],
)
def test_a_members_state_from_its_device_state_and_pause(
    status: int, paused: bool, state: MemberState
) -> None:
    assert member_state(status, paused) is state


def test_a_queue_call_rings_two_operators_one_answers_then_all_are_free() -> None:
    board = fold_all(
        Board(),
        [
            (member("QueueMemberAdded", "op1"), s(0)),
            (member("QueueMemberAdded", "op2"), s(0)),
            (caller("QueueCallerJoin", "100.0"), s(10)),
            (agent("AgentCalled", "op1"), s(10.1)),
            (agent("AgentCalled", "op2"), s(10.1)),
            (member("QueueMemberStatus", "op1", DEVICE_RINGING), s(10.2)),
            (member("QueueMemberStatus", "op2", DEVICE_RINGING), s(10.2)),
        ],
    )
    assert ops(board) == {"op1": "ringing", "op2": "ringing"}
    assert {m.name: m.caller for m in board.members.values()} == {
        "op1": "+48601000001",
        "op2": "+48601000001",
    }
    picture = view(board, s(13))
    assert [(w["position"], w["caller"], w["waited_s"]) for w in picture["waiting"]] == [
        (1, "+48601000001", 3.0)
    ]
    assert picture["longest_wait_s"] == 3.0

    board = fold_all(
        board,
        [
            (member("QueueMemberStatus", "op1", DEVICE_INUSE), s(14)),
            (member("QueueMemberStatus", "op2", DEVICE_NOT_INUSE), s(14)),
            (caller("QueueCallerLeave", "100.0"), s(14)),
            (agent("AgentConnect", "op1"), s(14)),
        ],
    )
    assert ops(board) == {"op1": "talking", "op2": "free"}
    picture = view(board, s(20))
    assert picture["waiting"] == [] and picture["longest_wait_s"] is None
    by_name = {o["name"]: o for o in picture["operators"]}
    assert by_name["op1"]["caller"] == "+48601000001"
    assert by_name["op1"]["for_s"] == 6.0  # talking since 14 s
    assert by_name["op2"]["caller"] is None  # free again: nobody rings it
    assert picture["states"] == {
        "free": 1, "ringing": 0, "talking": 1, "paused": 0, "unreachable": 0,
    }  # fmt: skip

    board = fold_all(
        board,
        [
            (agent("AgentComplete", "op1"), s(40)),
            (member("QueueMemberStatus", "op1", DEVICE_NOT_INUSE), s(40)),
        ],
    )
    assert ops(board) == {"op1": "free", "op2": "free"}
    assert all(m.caller is None for m in board.members.values())


def test_a_paused_member_and_one_unreachable() -> None:
    board = fold_all(
        Board(),
        [
            (member("QueueMemberAdded", "op1"), s(0)),
            (member("QueueMemberAdded", "op3", DEVICE_UNAVAILABLE), s(0)),
            (member("QueueMemberPause", "op1", paused="1", PausedReason="lunch"), s(5)),
        ],
    )
    assert ops(board) == {"op1": "paused", "op3": "unreachable"}
    op1 = next(m for m in board.members.values() if m.name == "op1")
    assert op1.pause_reason == "lunch" and op1.since == s(5)
    # unpaused: free again, since then
    board = fold(board, member("QueueMemberPause", "op1", paused="0"), s(65))
    op1 = next(m for m in board.members.values() if m.name == "op1")
    assert (op1.state, op1.pause_reason, op1.since) == (MemberState.FREE, "", s(65))
    # op3's phone registers: free
    board = fold(board, member("QueueMemberStatus", "op3", DEVICE_NOT_INUSE), s(70))
    assert ops(board) == {"op1": "free", "op3": "free"}


def test_a_status_event_for_a_member_never_added_adds_it() -> None:
    """The listener may start after the queue loaded its members: the first event says all."""
    board = fold(Board(), member("QueueMemberStatus", "op2", DEVICE_RINGING), s(1))
    assert ops(board) == {"op2": "ringing"}


def test_a_removed_member_leaves_the_board() -> None:
    board = fold_all(
        Board(),
        [
            (member("QueueMemberAdded", "op1"), s(0)),
            (member("QueueMemberAdded", "op2"), s(0)),
            (member("QueueMemberRemoved", "op2"), s(9)),
        ],
    )
    assert ops(board) == {"op1": "free"}


def test_the_same_event_twice_changes_nothing_the_second_time() -> None:
    first = fold(Board(), member("QueueMemberAdded", "op1"), s(0))
    first = fold(first, caller("QueueCallerJoin", "100.0"), s(1))
    again = fold(first, member("QueueMemberStatus", "op1"), s(2))
    again = fold(again, caller("QueueCallerJoin", "100.0"), s(3))
    assert again is first
    assert first.waiting["100.0"].joined == s(1)  # a repeated join keeps the first time


def test_events_the_board_does_not_read_return_the_same_board() -> None:
    board = fold(Board(), member("QueueMemberAdded", "op1"), s(0))
    for event in (
        {"Event": "Newchannel", "Uniqueid": "1.1"},
        {"Event": "QueueCallerLeave", "Uniqueid": "never-joined"},
        {"Event": "QueueMemberStatus", "Queue": "support"},  # no interface: names nobody
        {"Event": "AgentConnect", "Queue": "support", "Interface": "PJSIP/op9"},
        {},
    ):
        assert fold(board, event, s(1)) is board


def test_waiting_callers_in_order_of_arrival_numbered_from_one() -> None:
    board = fold_all(
        Board(),
        [
            (caller("QueueCallerJoin", "1.0", "+48601000001", 1), s(0)),
            (caller("QueueCallerJoin", "2.0", "+48601000002", 2), s(5)),
            (caller("QueueCallerJoin", "3.0", "+48601000003", 3), s(7)),
            (caller("QueueCallerAbandon", "1.0"), s(8)),
        ],
    )
    picture = view(board, s(10))
    assert [(w["position"], w["caller"], w["waited_s"]) for w in picture["waiting"]] == [
        (1, "+48601000002", 5.0),
        (2, "+48601000003", 3.0),
    ]
    assert picture["longest_wait_s"] == 5.0


def test_a_withheld_caller_has_no_number() -> None:
    board = fold(Board(), caller("QueueCallerJoin", "1.0", "<unknown>"), s(0))
    assert view(board, s(1))["waiting"][0]["caller"] == ""


def test_every_change_raises_the_version() -> None:
    board = Board()
    versions = [board.version]
    for event, when in [
        (member("QueueMemberAdded", "op1"), s(0)),
        (caller("QueueCallerJoin", "1.0"), s(1)),
        (member("QueueMemberStatus", "op1", DEVICE_RINGING), s(2)),
        (member("QueueMemberStatus", "op1", DEVICE_RINGING), s(3)),  # no change
    ]:
        board = fold(board, event, when)
        versions.append(board.version)
    assert versions == [0, 1, 2, 3, 3]


def queue_member(name: str, status: int, paused: str = "0") -> dict[str, str]:
    """A QueueStatus answer's QueueMember event: `Name` and `Location`, not MemberName."""
    return {
        "Event": "QueueMember",
        "Queue": "support",
        "Name": name,
        "Location": f"PJSIP/{name}",
        "StateInterface": f"PJSIP/{name}",
        "Status": str(status),
        "Paused": paused,
        "PausedReason": "",
        "InCall": "0",
    }


def queue_entry(uniqueid: str, number: str, wait: int, position: int) -> dict[str, str]:
    return {
        "Event": "QueueEntry",
        "Queue": "support",
        "Position": str(position),
        "Uniqueid": uniqueid,
        "CallerIDNum": number,
        "CallerIDName": "",
        "Wait": str(wait),
    }


def test_a_rebuild_puts_right_what_changed_while_the_connection_was_down() -> None:
    before = fold_all(
        Board(),
        [
            (member("QueueMemberAdded", "op1"), s(0)),
            (member("QueueMemberAdded", "op2"), s(0)),
            (member("QueueMemberAdded", "op3"), s(0)),
            (member("QueueMemberStatus", "op2", DEVICE_INUSE), s(3)),
            (caller("QueueCallerJoin", "1.0", "+48601000001"), s(10)),
            (caller("QueueCallerJoin", "2.0", "+48601000002"), s(12)),
        ],
    )
    # While nobody listened: caller 1 left, caller 3 came 25 s before the answer, op1 was
    # paused, op3 went away entirely; op2 still talks.
    answer = [
        {"Event": "QueueParams", "Queue": "support", "Calls": "2", "Strategy": "ringall"},
        queue_member("op1", DEVICE_NOT_INUSE, paused="1"),
        queue_member("op2", DEVICE_INUSE),
        queue_entry("2.0", "+48601000002", 48, 1),
        queue_entry("3.0", "+48601000003", 25, 2),
        {"Event": "QueueStatusComplete", "EventList": "Complete", "ListItems": "5"},
    ]
    board = rebuild(before, answer, s(60))
    assert ops(board) == {"op1": "paused", "op2": "talking"}
    members = {m.name: m for m in board.members.values()}
    assert members["op2"].since == s(3)  # the same state as before: its time is known
    assert members["op1"].since is None  # another state: since when is not known
    picture = view(board, s(60))
    assert [(w["caller"], w["waited_s"]) for w in picture["waiting"]] == [
        ("+48601000002", 48.0),  # known before: it keeps its join time
        ("+48601000003", 25.0),  # new: the answer's Wait
    ]
    assert board.version == before.version + 1
    # the same answer again changes nothing
    assert rebuild(board, answer, s(61)) is board


def test_an_old_status_folded_after_a_rebuild_is_put_right_by_the_next() -> None:
    """Events read before the QueueStatus answer but folded after it carry whole statuses:
    the next event of the member says all again."""
    board = rebuild(Board(), [queue_member("op1", DEVICE_INUSE)], s(10))
    board = fold(board, member("QueueMemberStatus", "op1", DEVICE_RINGING), s(10))  # older
    board = fold(board, member("QueueMemberStatus", "op1", DEVICE_INUSE), s(11))
    assert ops(board) == {"op1": "talking"}


def test_a_rebuild_from_an_empty_answer_empties_the_board() -> None:
    board = fold(Board(), caller("QueueCallerJoin", "1.0"), s(0))
    assert rebuild(board, [], s(5)).waiting == {}


def facts(
    ident: int,
    outcome: str | None,
    *,
    queued: bool = True,
    wait: float | None = None,
    route: str = "queue",
    direction: str = "inbound",
) -> CallFacts:
    return CallFacts(
        id=ident,
        arrived=s(ident),
        direction=direction,
        route=route,
        reason=None,
        outcome=outcome,
        operator=None,
        contract=None,
        queued=s(ident) if queued else None,
        wait_seconds=wait,
        talk_seconds=None,
    )


def test_todays_counters_hand_worked() -> None:
    calls = [
        facts(1, "answered", wait=5),  # within 20 s
        facts(2, "answered", wait=45),  # not within 20 s
        facts(3, "abandoned", wait=30),
        facts(4, "unanswered", wait=60),
        facts(5, "rejected", queued=False, route="closed"),
        facts(6, None, wait=None),  # waiting now: offered, not yet in any outcome
        facts(7, "answered", wait=3, direction="callback"),  # we called: not offered
    ]
    counts = today_counts(calls)
    assert (counts.offered, counts.answered, counts.abandoned) == (6, 2, 1)
    assert (counts.unanswered, counts.rejected) == (1, 1)
    # queued and over: 1-4 (6 still waits); answered within 20 s: 1
    assert (counts.queued_over, counts.answered_in_target) == (4, 1)
    assert counts.service_level == 0.25
    assert counts.as_json(waiting_now=1)["waiting"] == 1


def test_no_queued_call_over_means_no_service_level() -> None:
    counts = today_counts([facts(1, "rejected", queued=False), facts(2, None)])
    assert counts.service_level is None and counts.offered == 2


def test_today_is_the_warsaw_day() -> None:
    late = datetime.fromisoformat("2026-03-10T23:30:00+00:00")  # 00:30 on the 11th in Warsaw
    start, end = today_bounds(late)
    assert start.isoformat() == "2026-03-11T00:00:00+01:00"
    assert end - start == timedelta(days=1)
