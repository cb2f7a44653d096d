"""Every recorded AMI stream (tests/fixtures/ami/, made from our own Asterisk by
record_fixtures.py) replayed through the whole listener into a real SQLite file
(replay_listener.py): each scenario states its call-log rows and its ordered screen pops,
compared as whole values. And every recording is stamped with the asterisk-conf/ that made
it: a changed configuration means re-recording."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from replay_listener import FIXTURES, Logged, Pop, replay, scenarios

from callcenter.pbx.frames import Frame
from callcenter.pbx.recording import conf_stamp, read_recording

CONF = Path(__file__).resolve().parents[2] / "asterisk-conf"

# fmt: off
EXPECTED: dict[str, tuple[list[Logged], list[Pop]]] = {
    # the caller gives up in the queue while everyone rings
    "abandoned": (
        [
            Logged("+48601000001", "Łukasz Żak", "queue", "covered", "abandoned", None,
                   (("op1", "cancelled"), ("op2", "cancelled"), ("op3", "cancelled")),
                   wait=9, talk=None, follow_up="callback"),
        ],
        [("ringing", "op1", "R-1"), ("ringing", "op2", "R-1"), ("ringing", "op3", "R-1"),
         ("missed", "op1", None), ("missed", "op2", None), ("missed", "op3", None)],
    ),
    # op1 answers after 2 s while op2 rings and op3 is busy
    "answered": (
        [
            Logged("+48601000001", "Zażółć Gęślą", "queue", "covered", "answered", "op1",
                   (("op1", "answered"), ("op2", "cancelled"), ("op3", "busy")),
                   wait=2, talk=11, follow_up="ticket draft"),
        ],
        [("ringing", "op1", "R-1"), ("ringing", "op2", "R-1"), ("ringing", "op3", "R-1"),
         ("missed", "op3", None), ("missed", "op2", None), ("answered", "op1", None),
         ("ended", "op1", None)],
    ),
    # op1 is busy on another line (486); op2 answers after 2 s
    "busy": (
        [
            Logged("+48601000001", "Zenon Zajęty", "queue", "covered", "answered", "op2",
                   (("op1", "busy"), ("op2", "answered"), ("op3", "cancelled")),
                   wait=2, talk=9, follow_up="ticket draft"),
        ],
        [("ringing", "op1", "R-1"), ("ringing", "op2", "R-1"), ("ringing", "op3", "R-1"),
         ("missed", "op1", None), ("missed", "op3", None), ("answered", "op2", None),
         ("ended", "op2", None)],
    ),
    # no routing service: fails open to the queue; no decision, so no contract on pops
    "fail_open": (
        [
            Logged("+48601000001", "Bez Routingu", "queue", "fail_open", "answered", "op1",
                   (("op1", "answered"), ("op2", "cancelled"), ("op3", "cancelled")),
                   wait=1, talk=10, follow_up="ticket draft"),
        ],
        [("ringing", "op1", None), ("ringing", "op2", None), ("ringing", "op3", None),
         ("missed", "op2", None), ("missed", "op3", None), ("answered", "op1", None),
         ("ended", "op1", None)],
    ),
    # an unknown number: no_contract, its message
    "rejected": (
        [
            Logged("+48601000009", "Nieznany", "no_contract", "unknown_number", "rejected", None,
                   (),
                   wait=None, talk=None, follow_up=None),
        ],
        [],
    ),
    # the listener restarts while op1 talks: the call is taken over from the store
    "restarted": (
        [
            Logged("+48601000001", "Restart Rafał", "queue", "covered", "answered", "op1",
                   (("op1", "answered"), ("op2", "cancelled"), ("op3", "cancelled")),
                   wait=2, talk=15, follow_up="ticket draft"),
        ],
        [("ringing", "op1", "R-1"), ("ringing", "op2", "R-1"), ("ringing", "op3", "R-1"),
         ("missed", "op2", None), ("missed", "op3", None), ("answered", "op1", None),
         ("ended", "op1", None)],
    ),
    # op1 answers, then passes the caller on to op2 (# 2): one call, the pop moves
    "transferred": (
        [
            Logged("+48601000001", "Przekazany Piotr", "queue", "covered", "answered", "op2",
                   (("op1", "answered"), ("op2", "cancelled"), ("op3", "cancelled"),
                    ("op2", "answered")),
                   wait=2, talk=23, follow_up="ticket draft"),
        ],
        [("ringing", "op1", "R-1"), ("ringing", "op2", "R-1"), ("ringing", "op3", "R-1"),
         ("missed", "op2", None), ("missed", "op3", None), ("answered", "op1", None),
         ("ended", "op1", None), ("ringing", "op2", "R-1"), ("answered", "op2", None),
         ("ended", "op2", None)],
    ),
    # two customers at once: op1 takes the first, op2 the second
    "two_calls": (
        [
            Logged("+48601000001", "Pierwszy", "queue", "covered", "answered", "op1",
                   (("op1", "answered"), ("op2", "cancelled"), ("op3", "cancelled")),
                   wait=2, talk=11, follow_up="ticket draft"),
            Logged("+48601000002", "Druga", "queue", "covered", "answered", "op2",
                   (("op2", "answered"), ("op3", "cancelled")),
                   wait=3, talk=8, follow_up="ticket draft"),
        ],
        [("ringing", "op1", "R-1"), ("ringing", "op2", "R-1"), ("ringing", "op3", "R-1"),
         ("missed", "op2", None), ("missed", "op3", None), ("answered", "op1", None),
         ("ringing", "op2", "R-2"), ("ringing", "op3", "R-2"), ("missed", "op3", None),
         ("answered", "op2", None), ("ended", "op1", None), ("ended", "op2", None)],
    ),
    # nobody answers: the queue times out (6 s); op2 is busy
    "unanswered": (
        [
            Logged("+48601000001", "Ala", "queue", "covered", "unanswered", None,
                   (("op1", "no_answer"), ("op2", "busy"), ("op3", "no_answer")),
                   wait=6, talk=None, follow_up="callback"),
        ],
        [("ringing", "op1", "R-1"), ("ringing", "op2", "R-1"), ("ringing", "op3", "R-1"),
         ("missed", "op2", None), ("missed", "op1", None), ("missed", "op3", None)],
    ),
    # the wallboard's scenario: op3 paused, op9 unreachable; op1 answers after 3 s, op2 rang
    "wallboard": (
        [
            Logged("+48601000001", "Tablica Teresa", "queue", "covered", "answered", "op1",
                   (("op1", "answered"), ("op2", "cancelled")),
                   wait=3, talk=6, follow_up="ticket draft"),
        ],
        [("ringing", "op1", "R-1"), ("ringing", "op2", "R-1"), ("missed", "op2", None),
         ("answered", "op1", None), ("ended", "op1", None)],
    ),
}
# fmt: on


def test_every_recording_is_stamped_with_the_current_asterisk_conf() -> None:
    stamps = json.loads((FIXTURES / "stamps.json").read_text(encoding="utf-8"))
    current = conf_stamp(CONF)
    recordings = sorted(p.name for p in FIXTURES.glob("*.jsonl"))
    assert recordings, "no recordings"
    unstamped = [name for name in recordings if name not in stamps]
    assert not unstamped, f"{unstamped} have no stamp: record them with record_fixtures.py"
    stale = [name for name in recordings if stamps[name] != current]
    assert not stale, (
        f"asterisk-conf/ has changed since {', '.join(stale)} were recorded: re-record them "
        "(flock /tmp/cc-asterisk.lock .venv/bin/python tests/fixtures/ami/record_fixtures.py "
        f"{' '.join(sorted({n.split('.')[0] for n in stale}))}) and check their expected "
        "outcome in tests/integration/test_replay_sqlite.py"
    )
    assert sorted(stamps) == recordings, "stamps.json names a recording that is gone"


def test_every_recorded_scenario_has_its_expected_outcome() -> None:
    assert scenarios() == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_replayed_through_the_listener(name: str, tmp_path: Path) -> None:
    rows, pops = await replay(name, tmp_path / "replay.db")
    assert (rows, pops) == EXPECTED[name]


def test_the_restarted_listener_missed_the_answer_and_saw_the_end() -> None:
    """The restart came mid-call: the first run saw the answer, not the end; the second
    run saw the end only (it knows the operator from the store)."""
    first, second = (read_recording(FIXTURES / f"restarted.{n}.jsonl") for n in (1, 2))
    caller = next(f.get("Linkedid") for f in first if f.event == "Newchannel")

    def events(frames: list[Frame]) -> set[str]:
        return {f.event or "" for f in frames if f.get("Linkedid") == caller}

    assert {"AgentConnect"} <= events(first) and "AgentConnect" not in events(second)
    ends = [f for f in second if f.event == "Hangup" and f.get("Uniqueid") == caller]
    assert len(ends) == 1 and not any(
        f.event == "Hangup" and f.get("Uniqueid") == caller for f in first
    )
