"""Recorded AMI streams (tests/fixtures/ami/*.jsonl, from this project's Asterisk 22) folded
into the wallboard (domain/wallboard.py): what the wall showed, step by step. The board
starts as a login's QueueStatus answer leaves it: op1-op3 in the queue, free."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from callcenter.domain.wallboard import DEVICE_NOT_INUSE, Board, fold, rebuild, view
from callcenter.pbx.frames import ActionReply
from callcenter.pbx.recording import read_recording

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ami"

Step = tuple[str, dict[str, str], list[float], dict[str, str | None]]
# event, states by operator, waits, callers by operator


def start(at: datetime) -> Board:
    answer = [
        {"Event": "QueueMember", "Queue": "support", "Name": name, "Location": f"PJSIP/{name}",
         "Status": str(DEVICE_NOT_INUSE), "Paused": "0"}
        for name in ("op1", "op2", "op3")
    ]  # fmt: skip
    return rebuild(Board(), answer, at)


def replay(name: str, board: Board | None = None) -> tuple[Board, list[Step]]:
    frames = read_recording(FIXTURES / f"{name}.jsonl")
    first = frames[0].received_at
    assert first is not None
    board = start(first) if board is None else board
    steps: list[Step] = []
    for frame in frames:
        assert frame.received_at is not None
        after = fold(board, frame.as_dict(), frame.received_at)
        if after is not board:
            picture = view(after, frame.received_at)
            states = {o["name"]: o["state"] for o in picture["operators"]}
            waits = [w["waited_s"] for w in picture["waiting"]]
            callers = {o["name"]: o["caller"] for o in picture["operators"]}
            steps.append((frame.event or "", states, waits, callers))
        board = after
    return board, steps


def states_of(steps: list[Step], operator: str) -> list[str]:
    """The operator's states in order, each change once."""
    seen: list[str] = []
    for _, states, _, _ in steps:
        if not seen or seen[-1] != states[operator]:
            seen.append(states[operator])
    return seen


def changes(values: list[int]) -> list[int]:
    return [v for i, v in enumerate(values) if i == 0 or values[i - 1] != v]


def idle(board: Board) -> bool:
    return not board.waiting and all(m.state.value == "free" for m in board.members.values())


def test_answered_op1_rings_talks_and_is_free_again_op2_rang_in_vain() -> None:
    board, steps = replay("answered")
    assert states_of(steps, "op1") == ["free", "ringing", "talking", "free"]
    assert states_of(steps, "op2") == ["free", "ringing", "free"]
    assert states_of(steps, "op3") == ["free"]  # its phone answered "busy": no state change
    # one caller waited, from the join until op1 answered (the call log says 2 s)
    leave = next(i for i, (event, _, _, _) in enumerate(steps) if event == "QueueCallerLeave")
    assert [len(waits) for _, _, waits, _ in steps[:leave]] == [1] * leave
    waited = steps[leave - 1][2][0]
    assert 1.5 < waited < 3
    assert idle(board)
    # who rang op1 and who it talked to was shown (until AgentComplete, a moment before
    # its phone's state says the call is over)
    shown = [callers["op1"] for _, states, _, callers in steps if states["op1"] != "free"]
    assert shown[:-1] == ["+48601000001"] * (len(shown) - 1) and shown[-1] is None


def test_abandoned_the_caller_leaves_the_wall_and_op1_stops_ringing() -> None:
    board, steps = replay("abandoned")
    assert changes([len(waits) for _, _, waits, _ in steps]) == [1, 0]
    assert states_of(steps, "op1") == ["free", "ringing", "free"]
    assert idle(board)


def test_two_calls_two_operators_talk_at_once() -> None:
    board, steps = replay("two_calls")
    both = [states for _, states, _, _ in steps if states["op1"] == states["op2"] == "talking"]
    assert both, "op1 and op2 were in calls at the same time"
    assert max(len(waits) for _, _, waits, _ in steps) == 1
    assert idle(board)


def test_transferred_op2_takes_the_call_from_op1() -> None:
    board, steps = replay("transferred")
    assert states_of(steps, "op1") == ["free", "ringing", "talking", "free"]
    assert states_of(steps, "op2")[-3:] == ["ringing", "talking", "free"]
    assert idle(board)


def test_across_a_restart_of_the_listener_the_rebuild_and_events_agree() -> None:
    board, steps = replay("restarted.1")
    assert states_of(steps, "op1") == ["free", "ringing", "talking"]  # the first run ends here
    # the listener came back: a QueueStatus answer then the second half of the stream
    frames = read_recording(FIXTURES / "restarted.2.jsonl")
    at = frames[0].received_at
    assert at is not None
    answer = [
        {"Event": "QueueMember", "Queue": "support", "Name": "op1", "Location": "PJSIP/op1",
         "Status": "2", "Paused": "0"},
    ]  # fmt: skip
    board, _ = replay("restarted.2", rebuild(board, answer, at))
    assert idle(board)


def replay_with_login(name: str) -> tuple[Board, list[Step], int]:
    """The recording as the listener takes it: the login's QueueStatus answer (frames with
    its ActionID) rebuilds the board, every other event is folded. Also: the rebuilds."""
    board, steps, rebuilds = Board(), [], 0
    replies: dict[str, ActionReply] = {}
    for frame in read_recording(FIXTURES / f"{name}.jsonl"):
        at = frame.received_at
        assert at is not None
        if (action_id := frame.action_id) is not None:
            result = replies.setdefault(action_id, ActionReply()).add(frame)
            if result is not None and any(e.event == "QueueStatusComplete" for e in result.events):
                board = rebuild(board, [f.as_dict() for f in result.items], at)
                rebuilds += 1
            continue
        after = fold(board, frame.as_dict(), at)
        if after is not board:
            picture = view(after, at)
            states = {o["name"]: o["state"] for o in picture["operators"]}
            waits = [w["waited_s"] for w in picture["waiting"]]
            callers = {o["name"]: o["caller"] for o in picture["operators"]}
            steps.append((frame.event or "", states, waits, callers))
        board = after
    return board, steps, rebuilds


def test_wallboard_recording_paused_unreachable_a_caller_waits_op1_answers() -> None:
    """Recorded from Asterisk 22 (record_fixtures.py `wallboard`): the login's QueueStatus
    (op1-op3 free), op9 added (its phone cannot be found), op3 paused for "obiad", a caller
    waits while op1 and op2 ring, op1 answers after 3 s, op3 back, op9 removed."""
    board, steps, rebuilds = replay_with_login("wallboard")
    assert rebuilds == 1
    assert states_of(steps, "op1") == ["free", "ringing", "talking", "free"]
    assert states_of(steps, "op2") == ["free", "ringing", "free"]
    assert states_of(steps, "op3") == ["free", "paused", "free"]
    assert changes([len(waits) for _, _, waits, _ in steps]) == [0, 1, 0]
    with_op9 = [states.get("op9") for _, states, _, _ in steps]
    assert "unreachable" in with_op9 and with_op9[-1] is None  # added, then removed
    paused = next(s for s in steps if s[0] == "QueueMemberPause")
    assert paused[1]["op3"] == "paused"
    waits = [waits[0] for _, _, waits, _ in steps if waits]
    assert 2.5 < waits[-1] < 4.5  # op1 rang 3 s
    assert idle(board) and set(m.name for m in board.members.values()) == {"op1", "op2", "op3"}
