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

from callcenter.pbx.recording import conf_stamp

CONF = Path(__file__).resolve().parents[2] / "asterisk-conf"

EXPECTED: dict[str, tuple[list[Logged], list[Pop]]] = {
    "abandoned": (
        [
            Logged(
                caller="+48601000001",
                name="Łukasz Żak",
                route="queue",
                reason="covered",
                outcome="abandoned",
                operator=None,
                rings=(("op1", "cancelled"), ("op2", "cancelled"), ("op3", "cancelled")),
                wait=3,
                talk=None,
                follow_up="callback",
            ),
        ],
        [
            ("ringing", "op1", "R-1"),
            ("ringing", "op2", "R-1"),
            ("ringing", "op3", "R-1"),
            ("missed", "op1", None),
            ("missed", "op2", None),
            ("missed", "op3", None),
        ],
    ),
    "answered": (
        [
            Logged(
                caller="+48601000001",
                name="Zażółć Gęślą",
                route="queue",
                reason="covered",
                outcome="answered",
                operator="op1",
                rings=(("op1", "answered"), ("op2", "cancelled"), ("op3", "busy")),
                wait=2,
                talk=5,
                follow_up="ticket draft",
            ),
        ],
        [
            ("ringing", "op1", "R-1"),
            ("ringing", "op2", "R-1"),
            ("ringing", "op3", "R-1"),
            ("missed", "op3", None),
            ("missed", "op2", None),
            ("answered", "op1", None),
            ("ended", "op1", None),
        ],
    ),
    "rejected": (
        [
            Logged(
                caller="+48601000009",
                name="Nieznany",
                route="no_contract",
                reason="unknown_number",
                outcome="rejected",
                operator=None,
                rings=(),
                wait=None,
                talk=None,
                follow_up=None,
            ),
        ],
        [],
    ),
    "unanswered": (
        [
            Logged(
                caller="+48601000001",
                name="Ala",
                route="queue",
                reason="covered",
                outcome="unanswered",
                operator=None,
                rings=(("op1", "no_answer"), ("op2", "busy"), ("op3", "no_answer")),
                wait=6,
                talk=None,
                follow_up="callback",
            ),
        ],
        [
            ("ringing", "op1", "R-1"),
            ("ringing", "op2", "R-1"),
            ("ringing", "op3", "R-1"),
            ("missed", "op2", None),
            ("missed", "op1", None),
            ("missed", "op3", None),
        ],
    ),
}


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
