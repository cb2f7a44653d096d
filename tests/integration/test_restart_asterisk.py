"""A restart of our own process loses nothing: real calls through the local Asterisk 22
(placed by sipp, routed by `callcenter agi` under libfaketime), followed by `callcenter
listen` as a real process that the test kills (SIGKILL) or stops (SIGTERM) in the middle
of a call and starts again. The new process picks the call up from the log and ends it
with the right outcome, logged once.

- killed mid-talk: answered, the operator known, logged once, one ticket draft;
- restarted while the caller waits in the queue: the caller then gives up, abandoned;
- killed after the queue gave up, during the queue-timeout prompt: unanswered, not
  abandoned, the queue's TIMEOUT kept;
- killed after the caller pressed 1, during the "we will call you back" prompt: the
  callback stays requested (before the queue's facts were kept, it came back `unanswered`).

Each call is ended by the test (`channel request hangup` on the caller's channel) once the
new listener has logged in and resynced, so the hang-up surely comes after the restart. The
prompt the caller hears then is lengthened (silence appended) for its test, so the restart
fits in it. Replays of the same cases: tests/integration/test_restart_replay_store.py."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from asterisk_harness import AmiEvents, CallerResult, LocalAsterisk, Operator, run_caller
from conftest_asterisk import local_asterisk
from services import Service, cli_json
from sqlalchemy import select

from callcenter.store import call_log, db, migrate
from callcenter.store.models import CallbackRow, TicketRow

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
    "L-1,Zakład Usług Łódź,phone,yearly,2026-01-01,2026-12-31,SmodCMS,https://l1.example.pl,"
    f"{CALLER},l1@example.pl,2025-12-20T10:00:00,\n"
)


class Lab:
    """The call log (a SQLite file), the routing service, and the listener as a process."""

    def __init__(self, asterisk: LocalAsterisk, workdir: Path) -> None:
        self.asterisk = asterisk
        self.workdir = workdir
        self.url = f"sqlite:///{workdir / 'callcenter.db'}"
        self.env = {
            "CALLCENTER_DATABASE_URL": self.url,
            "CALLCENTER_ASTERISK_LOG_DIR": str(asterisk.log_dir),
        }
        self.engine = db.make_engine(self.url)
        self.sessions = db.sessions(self.engine)

    def listen(self) -> Service:
        """`callcenter listen`, once it has logged in to the AMI and resynced."""
        return Service(["listen"], self.env, self.workdir / "listen.log").start(
            "resync done", timeout=90
        )

    def entry(self, linkedid: str) -> dict[str, Any] | None:
        """The call's log entry (every column, its rings, tickets and callbacks)."""
        with self.sessions() as s:
            row = call_log.call_row(s, linkedid)
            if row is None:
                return None
            values: dict[str, Any] = {c.key: getattr(row, c.key) for c in row.__table__.columns}
            values["rings"] = [(r.endpoint, r.result) for r in row.rings]
            values["tickets"] = list(
                s.scalars(select(TicketRow.status).where(TicketRow.call_id == row.id))
            )
            values["callback"] = (
                s.get(CallbackRow, row.callback_id) if row.callback_id is not None else None
            )
            return values

    def wait_entry(
        self, linkedid: str, fact: Callable[[dict[str, Any]], bool], what: str, timeout: float = 60
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            entry = self.entry(linkedid)
            if entry is not None and fact(entry):
                return entry
            if time.monotonic() > deadline:
                raise AssertionError(f"call {linkedid}: not {what} in {timeout} s: {entry}")
            time.sleep(0.2)

    def logged_once(self, linkedid: str) -> dict[str, Any]:
        """The call as `callcenter calls list` shows it: exactly once."""
        listed = cli_json(self.env, "calls", "list")
        assert isinstance(listed, list)
        [entry] = [c for c in listed if c["linkedid"] == linkedid]
        return dict(entry)


@pytest.fixture(scope="module")
def lab(local_asterisk: LocalAsterisk, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    workdir = tmp_path_factory.mktemp("restart")
    lab = Lab(local_asterisk, workdir)
    migrate.upgrade(lab.engine)
    (workdir / "contracts.csv").write_text(CSV, encoding="utf-8")
    cli_json(lab.env, "contracts", "import", str(workdir / "contracts.csv"))
    agi = Service(["agi"], lab.env, workdir / "agi.log", faketime=TUESDAY_9)
    agi.start("fastagi listening")
    try:
        yield lab
    finally:
        agi.stop()
        lab.engine.dispose()


def kill(service: Service) -> None:
    """SIGKILL, as a crash or the OOM killer would: nothing of it runs after."""
    process, service.process = service.process, None
    assert process is not None
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def call_in_background(
    scenario: str | None = None, hold_seconds: float = 300
) -> tuple[threading.Thread, list[CallerResult]]:
    """A caller who stays on the line until the call is ended for them (`caller_press_1.xml`:
    who presses 1 after `hold_seconds` in the queue, and then waits)."""
    results: list[CallerResult] = []

    def place() -> None:
        results.append(
            run_caller(number=CALLER, display_name="Łukasz Żak", scenario=scenario,
                       hold_seconds=hold_seconds, timeout=360)
        )  # fmt: skip

    thread = threading.Thread(target=place)
    thread.start()
    return thread, results


def decision(ami: AmiEvents) -> dict[str, str]:
    return ami.wait_for(
        lambda f: f.get("UserEvent") == "CallcenterDecision" and f.get("CallerIDNum") == CALLER,
        30,
    )


def event(ami: AmiEvents, name: str, linkedid: str, timeout: float = 30, **fields: str) -> None:
    ami.wait_for(
        lambda f: (
            f.get("Event") == name
            and f.get("Linkedid") == linkedid
            and all(f.get(k) == v for k, v in fields.items())
        ),
        timeout,
    )


def hang_up(lab: Lab, thread: threading.Thread, channel: str) -> None:
    lab.asterisk.cli(f"channel request hangup {channel}")
    thread.join(60)
    assert not thread.is_alive()


def test_killed_mid_talk_the_call_is_answered_once_with_its_operator(lab: Lab) -> None:
    listener = lab.listen()
    try:
        with AmiEvents() as ami, Operator(1, "answer", ring_seconds=1.0):
            thread, results = call_in_background()
            decided = decision(ami)
            linkedid = decided["Linkedid"]
            event(ami, "AgentConnect", linkedid)
            before = lab.wait_entry(
                linkedid, lambda e: e["state"] == "answered" and e["operator"] == "op1",
                "answered by op1 in the log",
            )  # fmt: skip
            kill(listener)
            listener = lab.listen()
            assert "following 1 unfinished call(s) from the log" in listener.text()
            hang_up(lab, thread, decided["Channel"])
        results[0].check()
        after = lab.wait_entry(linkedid, lambda e: e["state"] == "ended", "ended")
    finally:
        listener.stop()
    assert after["outcome"] == "answered"
    assert after["operator"] == "op1"
    assert after["answered_at"] == before["answered_at"]
    assert after["queued_at"] == before["queued_at"]
    assert after["talk_s"] is not None and after["talk_s"] > 0
    rings = dict(after["rings"])
    assert rings.pop("op1") == "answered"  # op2, op3 have no phone here: rung, not answered
    assert set(rings.values()) <= {"cancelled", "no_answer", "unavailable", "busy"}
    assert after["tickets"] == ["draft"] and after["callback"] is None
    shown = lab.logged_once(linkedid)
    assert (shown["outcome"], shown["operator"], shown["contract"]) == ("answered", "op1", "L-1")


def test_restarted_while_the_caller_waits_in_the_queue_then_they_give_up(lab: Lab) -> None:
    listener = lab.listen()
    try:
        with AmiEvents() as ami, Operator(1, "ring"):
            thread, results = call_in_background()
            decided = decision(ami)
            linkedid = decided["Linkedid"]
            event(ami, "AgentCalled", linkedid)
            before = lab.wait_entry(
                linkedid, lambda e: e["state"] == "queued" and e["rings"] != [],
                "queued with op1 ringing in the log",
            )  # fmt: skip
            assert listener.stop() == 0  # SIGTERM: a normal stop
            listener = lab.listen()
            hang_up(lab, thread, decided["Channel"])
        results[0].check()
        after = lab.wait_entry(linkedid, lambda e: e["state"] == "ended", "ended")
    finally:
        listener.stop()
    assert after["outcome"] == "abandoned"
    assert after["queue_abandoned"] is True and after["queue_status"] == ""
    assert after["queued_at"] == before["queued_at"]
    assert after["wait_s"] is not None and after["wait_s"] > 0
    assert ("op1", "cancelled") in after["rings"]  # ringing when the caller gave up
    assert "answered" not in {result for _, result in after["rings"]}
    assert after["tickets"] == [] and after["callback"] is not None
    assert after["callback"].caller_e164 == CALLER
    assert lab.logged_once(linkedid)["outcome"] == "abandoned"


class LongPrompt:
    """A prompt of ours with 120 s of silence after it while in use (restored after)."""

    def __init__(self, lab: Lab, name: str) -> None:
        self.lab = lab
        self.path = lab.asterisk.run_dir / "sounds" / "pl" / "callcenter" / f"{name}.wav"
        self.original = b""

    def __enter__(self) -> LongPrompt:
        import subprocess

        self.original = self.path.read_bytes()
        longer = self.lab.workdir / f"{self.path.stem}-long.wav"
        subprocess.run(["sox", str(self.path), str(longer), "pad", "0", "120"], check=True,
                       timeout=60)  # fmt: skip
        self.path.write_bytes(longer.read_bytes())
        return self

    def __exit__(self, *exc: object) -> None:
        self.path.write_bytes(self.original)


@pytest.fixture
def short_queue(lab: Lab) -> Iterator[None]:
    """The queue gives up after 5 s (the dialplan's CC_QUEUE_TIMEOUT; reloaded after)."""
    lab.asterisk.cli("dialplan set global CC_QUEUE_TIMEOUT 5")
    try:
        yield
    finally:
        lab.asterisk.cli("dialplan reload")


def test_killed_during_the_queue_timeout_prompt_the_call_is_unanswered(
    lab: Lab, short_queue: None
) -> None:
    listener = lab.listen()
    try:
        with AmiEvents() as ami, Operator(1, "ring"), LongPrompt(lab, "queue_timeout"):
            thread, results = call_in_background()
            decided = decision(ami)
            linkedid = decided["Linkedid"]
            event(ami, "UserEvent", linkedid, UserEvent="CallcenterQueueEnd", Status="TIMEOUT")
            before = lab.wait_entry(
                linkedid, lambda e: e["queue_status"] == "TIMEOUT",
                "given up by the queue in the log",
            )  # fmt: skip
            kill(listener)
            listener = lab.listen()
            assert "following 1 unfinished call(s) from the log" in listener.text()
            hang_up(lab, thread, decided["Channel"])
        results[0].check()
        after = lab.wait_entry(linkedid, lambda e: e["state"] == "ended", "ended")
    finally:
        listener.stop()
    assert after["outcome"] == "unanswered"
    assert (after["queue_status"], after["queue_abandoned"]) == ("TIMEOUT", False)
    assert after["queue_left_at"] == before["queue_left_at"] is not None
    assert 4 <= after["wait_s"] <= 9
    assert after["tickets"] == [] and after["callback"] is not None
    assert lab.logged_once(linkedid)["outcome"] == "unanswered"


def test_killed_after_pressing_1_the_callback_stays_requested(lab: Lab) -> None:
    """The caller pressed 1 in the queue; our dialplan said so (CallcenterQueueEnd
    CALLBACK) before the kill; they hang up during the "we will call you back" prompt,
    after the restart: the call asked for a callback, it was not just unanswered."""
    listener = lab.listen()
    try:
        with (
            AmiEvents() as ami,
            Operator(1, "ring"),
            LongPrompt(lab, "callback_requested"),
        ):
            thread, results = call_in_background(
                "caller_press_1.xml", hold_seconds=12
            )  # in the queue
            decided = decision(ami)
            linkedid = decided["Linkedid"]
            event(ami, "UserEvent", linkedid, UserEvent="CallcenterQueueEnd", Status="CALLBACK")
            lab.wait_entry(linkedid, lambda e: e["queue_status"] == "CALLBACK", "CALLBACK")
            kill(listener)
            listener = lab.listen()
            hang_up(lab, thread, decided["Channel"])
        assert "PRESSED_1" in results[0].check().output
        after = lab.wait_entry(linkedid, lambda e: e["state"] == "ended", "ended")
    finally:
        listener.stop()
    assert after["outcome"] == "callback_requested"
    assert (after["queue_status"], after["queue_abandoned"]) == ("CALLBACK", False)
    assert after["callback"] is not None and after["callback"].requested is True
    assert lab.logged_once(linkedid)["outcome"] == "callback_requested"
