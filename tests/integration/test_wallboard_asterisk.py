"""The live wallboard on the real local Asterisk 22: real calls placed by sipp, routed by
`callcenter agi` (under libfaketime, a working morning), followed by the real AMI listener
(in a thread, through a TCP proxy the test can cut); what the wall shows is read from the
wallboard messages the listener's hub sends to the managers' screens.

- the board starts from the QueueStatus answer of the first login: op1-op3 free;
- a member whose phone Asterisk cannot reach (a member `PJSIP/op9`, an endpoint with no
  phone at all) is unreachable; a member paused (AMI `Command`: `queue pause member`; our AMI
  user has no `agent` write privilege for the QueuePause action) is paused, with the reason;
- a caller waits, with the wait growing, while op1 and op2 ring; op1 answers: talking, op2
  free again, nobody waiting;
- the AMI connection is cut; while it is down the call ends, op1 and op2 are paused, op9
  leaves the queue and a second caller starts waiting; after the reconnect the wall shows
  exactly that, the second caller's wait counted from when they joined;
- after the reconnect the events go on: op1 unpaused answers the waiting caller.

Run under the machine's Asterisk lock: `flock /tmp/cc-asterisk.lock .venv/bin/pytest FILE`."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from asterisk_harness import (
    AMI_ADDRESS,
    AMI_SECRET,
    AMI_USER,
    AmiEvents,
    CallerResult,
    LocalAsterisk,
    Operator,
    run_caller,
)
from conftest_asterisk import local_asterisk
from listener_thread import ThreadedListener
from services import Service, cli_json

from callcenter.config import Settings
from callcenter.store import db, migrate
from tests.support.waits import wait_for

__all__ = ["local_asterisk"]

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="local Asterisk runs on Linux"),
    pytest.mark.asterisk,
    pytest.mark.timeout(600),
]

TUESDAY_9 = "2026-11-24 09:00:00"  # a working day, working hours (Warsaw)
CALLER = "+48601000001"
CSV = (
    "number,customer,plan,billing,paid_from,paid_until,product,site_url,phones,email,"
    "accepted_at,daily_units\n"
    "W-1,Zakład Usług Łódź,phone,yearly,2026-01-01,2026-12-31,SmodCMS,https://w1.example.pl,"
    f"{CALLER},w1@example.pl,2025-12-20T10:00:00,10\n"
)
Message = dict[str, Any]


class Wall:
    """The listener, the routing service, and the wallboard messages the listener sent."""

    def __init__(self, asterisk: LocalAsterisk, workdir: Path) -> None:
        self.asterisk = asterisk
        url = f"sqlite:///{workdir / 'callcenter.db'}"
        engine = db.make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        (workdir / "contracts.csv").write_text(CSV, encoding="utf-8")
        env = {"CALLCENTER_DATABASE_URL": url, "CALLCENTER_ASTERISK_LOG_DIR": str(asterisk.log_dir)}
        cli_json(env, "contracts", "import", str(workdir / "contracts.csv"))
        self.agi = Service(["agi"], env, workdir / "agi.log", faketime=TUESDAY_9)
        settings = Settings(
            database_url=url, asterisk_log_dir=str(asterisk.log_dir),
            ami_host=AMI_ADDRESS[0], ami_port=AMI_ADDRESS[1], ami_user=AMI_USER,
            ami_secret=AMI_SECRET,
        )  # fmt: skip
        self.listener = ThreadedListener(settings)

    def messages(self) -> list[Message]:
        return list(self.listener.wallboard)

    def shows(
        self, predicate: Callable[[Message], bool], what: str, timeout: float = 30
    ) -> Message:
        """The first wallboard message sent (already, or within `timeout`) that `predicate`
        accepts."""

        def found() -> Message | None:
            return next((m for m in self.messages() if predicate(m)), None)

        return wait_for(found, timeout, f"the wallboard showing {what}",
                        last=self.last)  # fmt: skip

    def shows_next(
        self,
        predicate: Callable[[Message], bool],
        what: str,
        timeout: float = 60,
        since: int | None = None,
    ) -> Message:
        """Like `shows`, among the messages sent from now on (or from message `since`)."""
        seen = len(self.messages()) if since is None else since

        def found() -> Message | None:
            return next((m for m in self.messages()[seen:] if predicate(m)), None)

        return wait_for(found, timeout, f"the wallboard showing {what}",
                        last=self.last)  # fmt: skip

    def last(self) -> str:
        messages = self.messages()
        if not messages:
            return "no wallboard message"
        m = messages[-1]
        return f"last: states={states(m)} waiting={[w['caller'] for w in m['waiting']]}"

    def cli(self, command: str) -> None:
        self.asterisk.cli(command)


def states(message: Message) -> dict[str, str]:
    return {o["name"]: o["state"] for o in message["operators"]}


def operator(message: Message, name: str) -> dict[str, Any]:
    return next(o for o in message["operators"] if o["name"] == name)


@pytest.fixture(scope="module")
def wall(local_asterisk: LocalAsterisk, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wall]:
    wall = Wall(local_asterisk, tmp_path_factory.mktemp("wallboard"))
    wall.agi.start("fastagi listening")
    wall.listener.start()
    try:
        yield wall
    finally:
        wall.listener.stop()
        wall.agi.stop()
        for command in ("queue unpause member PJSIP/op1", "queue unpause member PJSIP/op2",
                        "queue unpause member PJSIP/op3"):  # fmt: skip
            local_asterisk.cli(command)
        if "PJSIP/op9" in local_asterisk.cli("queue show support"):
            local_asterisk.cli("queue remove member PJSIP/op9 from support")


def in_background(**caller: Any) -> tuple[threading.Thread, list[CallerResult]]:
    results: list[CallerResult] = []
    thread = threading.Thread(target=lambda: results.append(run_caller(**caller)), daemon=True)
    thread.start()
    return thread, results


def test_the_wall_follows_real_calls_and_is_right_again_after_a_reconnect(wall: Wall) -> None:
    listener = wall.listener
    listener.wait_resynced(timeout=30)
    # The first login's QueueStatus answer: the queue's members, free (their phones idle).
    wall.shows(lambda m: states(m) == {"op1": "free", "op2": "free", "op3": "free"},
               "op1-op3 free, from QueueStatus")  # fmt: skip

    wall.cli("queue add member PJSIP/op9 to support penalty 0 as op9")
    wall.shows(lambda m: states(m).get("op9") == "unreachable", "op9 unreachable")
    wall.cli("queue pause member PJSIP/op3 queue support reason obiad")
    paused = wall.shows(lambda m: states(m).get("op3") == "paused", "op3 paused")
    assert operator(paused, "op3")["pause_reason"] == "obiad"

    with (
        AmiEvents() as ami,
        Operator(1, "answer", ring_seconds=4.0),
        Operator(2, "ring"),
    ):
        first, first_result = in_background(number=CALLER, display_name="Ala", hold_seconds=16)
        ami.wait_for(
            lambda f: f.get("Event") == "QueueCallerJoin" and f.get("CallerIDName") == "Ala",
            30, "the first caller in the queue",
        )  # fmt: skip
        first_joined = time.time()
        ringing = wall.shows(
            lambda m: (
                len(m["waiting"]) == 1
                and states(m) == {"op1": "ringing", "op2": "ringing", "op3": "paused",
                                  "op9": "unreachable"}
            ),
            "the caller waiting while op1 and op2 ring",
        )  # fmt: skip
        [waiting] = ringing["waiting"]
        assert waiting["caller"] == CALLER and waiting["caller_name"] == "Ala"
        assert operator(ringing, "op1")["caller"] == CALLER  # who rings op1
        answered = wall.shows(
            lambda m: (
                not m["waiting"] and states(m)["op1"] == "talking" and states(m)["op2"] == "free"
            ),
            "op1 talking, op2 free again, nobody waiting",
        )
        # the wait counts from when the caller joined the queue (the screen ticks from there)
        since = datetime.fromisoformat(waiting["joined"]).timestamp()
        assert since == pytest.approx(first_joined, abs=1.0)
        assert waiting["waited_s"] == pytest.approx(
            datetime.fromisoformat(ringing["at"]).timestamp() - since, abs=0.2
        )
        assert operator(answered, "op1")["caller"] == CALLER

        # The AMI connection goes down; meanwhile the call ends, op1 and op2 are paused, op9
        # leaves the queue and another caller starts waiting.
        before = listener.resyncs
        # The rebuilt wall may be sent before wait_resynced below sees the resync done: look
        # for it among every message from the cut on (none before it matches).
        cut_at = len(wall.messages())
        listener.call_soon(listener.proxy.cut, 25.0)
        wall.cli("queue pause member PJSIP/op1 queue support")
        wall.cli("queue pause member PJSIP/op2 queue support")
        wall.cli("queue remove member PJSIP/op9 from support")
        second, second_result = in_background(number=CALLER, display_name="Ola",
                                              hold_seconds=60)  # fmt: skip
        ami.wait_for(
            lambda f: f.get("Event") == "QueueCallerJoin" and f.get("CallerIDName") == "Ola",
            30, "the second caller in the queue",
        )  # fmt: skip
        joined = time.time()
        first.join(60)
        first_result[0].check()
        assert listener.live is not None and listener.live.board.connected is False

        # Reconnected: rebuilt from QueueStatus, the wall is right again.
        listener.wait_resynced(more_than=before, timeout=90)
        rebuilt = wall.shows_next(
            lambda m: (
                m["connected"]
                and states(m) == {"op1": "paused", "op2": "paused", "op3": "paused"}
                and [w["caller_name"] for w in m["waiting"]] == ["Ola"]
            ),
            "after the reconnect: all paused, op9 gone, the second caller waiting",
            since=cut_at,
        )
        shown_at = time.time()
        [waiting] = rebuilt["waiting"]
        # the wait counts from the join, not from the reconnect (QueueEntry's whole seconds)
        assert waiting["waited_s"] == pytest.approx(shown_at - joined, abs=2.0)
        assert waiting["waited_s"] > 10

        # The events go on after the reconnect: op1 back from the pause answers the caller.
        wall.cli("queue unpause member PJSIP/op1 queue support")
        wall.shows_next(
            lambda m: not m["waiting"] and states(m)["op1"] == "talking",
            "op1 talking to the second caller",
        )
        wall.cli("channel request hangup all")
        second.join(60)
        second_result[0].check()
        wall.shows_next(lambda m: states(m)["op1"] == "free", "op1 free after the call")
