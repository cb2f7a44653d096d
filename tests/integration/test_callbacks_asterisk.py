"""Callbacks through the real local Asterisk: "Call back" (AMI Originate from the running
listener's AmiClient) rings the operator's sipp phone, then dials the customer's sipp phone
behind the trunk (127.0.0.2:5090); the attempt's result lands on the callback and in the call
log. And a caller in the queue hears the Polish announcements and presses 1 (SIP INFO) to be
called back instead."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from asterisk_harness import (
    AMI_ADDRESS,
    AMI_SECRET,
    AMI_USER,
    AmiEvents,
    CallerResult,
    Customer,
    LocalAsterisk,
    Operator,
    run_caller,
)
from conftest_asterisk import local_asterisk
from listener_thread import ThreadedListener
from services import Service, cli_json, logged_call

from callcenter.config import Settings
from callcenter.pbx.callbacks import call_back
from callcenter.store import db, migrate
from callcenter.store.callbacks import CallbackError, attempts_of
from callcenter.store.models import CallbackRow
from tests.support.waits import wait_for

__all__ = ["local_asterisk"]

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="local Asterisk runs on Linux"),
    pytest.mark.asterisk,
    pytest.mark.timeout(600),
]

TUESDAY_9 = "2026-11-24 09:00:00"
CSV = """number,customer,plan,billing,paid_from,paid_until,product,site_url,phones,email,accepted_at,daily_units
K-1,Zakład Usług Łódź,phone,yearly,2026-01-01,2026-12-31,SmodCMS,https://k1.example.pl,+48601000001,k1@example.pl,2025-12-20T10:00:00,
K-2,Biuro Rachunkowe Ewa,phone,yearly,2026-01-01,2026-12-31,SmodBIP,https://k2.example.pl,+48601000002,k2@example.pl,2025-12-20T10:00:00,
"""
NUMBER = "+48601000001"
HEAD = "+48601000002"


class Lab:
    def __init__(self, asterisk: LocalAsterisk, workdir: Path, url: str) -> None:
        self.asterisk, self.workdir, self.url = asterisk, workdir, url
        self.env = {
            "CALLCENTER_DATABASE_URL": url,
            "CALLCENTER_ASTERISK_LOG_DIR": str(asterisk.log_dir),
        }
        self.engine = db.make_engine(url)
        self.sessions = db.sessions(self.engine)
        self.listener: ThreadedListener | None = None

    def new_callback(self) -> int:
        now = datetime.now(UTC)
        with db.transaction(self.sessions) as session:
            row = CallbackRow(
                caller_e164=NUMBER,
                contract="K-1",
                first_call_at=now,
                last_call_at=now,
                calls=1,
                due_at=now + timedelta(hours=8),
                created_at=now,
            )
            session.add(row)
            session.flush()
            return row.id

    def call_back(self, callback_id: int, operator: str, ring_timeout: float = 20.0) -> int:
        assert self.listener is not None and self.listener.live is not None
        live = self.listener.live
        assert live.client is not None
        return self.listener.run(
            call_back(
                live.client, live.sessions, callback_id, operator, datetime.now(UTC), ring_timeout
            )
        )

    def callback(self, callback_id: int) -> dict[str, Any]:
        found = cli_json(self.env, "callbacks", "list", "--all")
        assert isinstance(found, list)
        [item] = [c for c in found if c["id"] == callback_id]
        return item

    def attempts(self, callback_id: int) -> list[Any]:
        with self.sessions() as session:
            return list(attempts_of(session, callback_id))

    def attempt(self, callback_id: int, timeout: float = 60.0) -> Any:
        """The callback's newest attempt once it has ended."""

        def ended() -> Any:
            attempts = self.attempts(callback_id)
            return attempts[-1] if attempts and attempts[-1].ended_at is not None else None

        return wait_for(
            ended,
            timeout,
            f"callback {callback_id}: its newest attempt ended",
            every=0.2,
            last=lambda: self.attempts(callback_id),
        )

    def ended(self, linkedid: str, timeout: float = 30.0) -> dict[str, Any]:
        """The call's log entry once it has ended."""
        return logged_call(self.env, linkedid, timeout)

    def logged(self, linkedid: str) -> dict[str, Any]:
        calls = cli_json(self.env, "calls", "list")
        assert isinstance(calls, list)
        [entry] = [c for c in calls if c["linkedid"] == linkedid]
        return entry


@pytest.fixture(scope="module")
def lab(local_asterisk: LocalAsterisk, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    workdir = tmp_path_factory.mktemp("callbacks")
    url = f"sqlite:///{workdir / 'callcenter.db'}"
    engine = db.make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    (workdir / "contracts.csv").write_text(CSV, encoding="utf-8")
    lab = Lab(local_asterisk, workdir, url)
    cli_json(lab.env, "contracts", "import", str(workdir / "contracts.csv"))
    settings = Settings(
        database_url=url, asterisk_log_dir=str(local_asterisk.log_dir),
        ami_host=AMI_ADDRESS[0], ami_port=AMI_ADDRESS[1], ami_user=AMI_USER,
        ami_secret=AMI_SECRET,
    )  # fmt: skip
    lab.listener = ThreadedListener(settings).start()
    lab.listener.wait_resynced(timeout=30)  # logged in to the AMI (Originate needs it)
    try:
        yield lab
    finally:
        lab.listener.stop()
        lab.engine.dispose()


def test_a_reached_customer_closes_the_callback(lab: Lab) -> None:
    callback_id = lab.new_callback()
    lab.asterisk.cli("dialplan set global CC_CALLBACK_LIMIT 3")  # Asterisk ends the talk
    try:
        with (
            Operator(1, "answer", ring_seconds=1.0) as op1,
            Customer("answer", ring_seconds=1.0) as customer,
        ):
            attempt_id = lab.call_back(callback_id, "op1")
            op1.wait_for_event("ANSWERED", 15)
            customer.wait_for_event("ANSWERED", 15)
            customer.wait_for_event("BYE", 15)
            op1.wait_for_event("BYE", 15)
    finally:
        lab.asterisk.cli("dialplan reload")
    attempt = lab.attempt(callback_id)
    assert (attempt.id, attempt.operator, attempt.result) == (attempt_id, "op1", "reached")
    callback = lab.callback(callback_id)
    assert callback["done"] is not None
    assert callback["attempts"] == 1
    call = lab.logged(attempt.linkedid)
    assert (call["direction"], call["outcome"], call["operator"]) == ("callback", "reached", "op1")
    assert (call["caller"], call["contract"], call["callback"]) == (NUMBER, "K-1", callback_id)
    assert call["talk_seconds"] is not None and 2.5 <= call["talk_seconds"] <= 6
    assert [(r["operator"], r["result"]) for r in call["rings"]] == [("op1", "answered")]
    assert 0.5 <= call["rings"][0]["seconds"] <= 5
    with pytest.raises(CallbackError, match="is done already"):  # one click too many
        lab.call_back(callback_id, "op1")


@pytest.mark.parametrize(("behaviour", "result"), [("ring", "no_answer"), ("busy", "busy")])
def test_a_failed_attempt_keeps_the_callback_open_and_counts(
    lab: Lab, behaviour: str, result: str
) -> None:
    callback_id = lab.new_callback()
    lab.asterisk.cli("dialplan set global CC_CALLBACK_RING 4")
    try:
        with Operator(1, "answer") as op1, Customer(behaviour) as customer:  # type: ignore[arg-type]
            lab.call_back(callback_id, "op1")
            customer.wait_for_event("INVITED", 15)
            op1.wait_for_event("BYE", 20)  # Asterisk hangs the operator up after the dial
    finally:
        lab.asterisk.cli("dialplan reload")
    attempt = lab.attempt(callback_id)
    assert attempt.result == result
    callback = lab.callback(callback_id)
    assert (callback["done"], callback["attempts"]) == (None, 1)
    call = lab.logged(attempt.linkedid)
    assert (call["direction"], call["outcome"], call["talk_seconds"]) == ("callback", result, None)
    # the callback stays on the list, and may be tried again
    assert any(c["id"] == callback_id for c in cli_json(lab.env, "callbacks", "list"))  # type: ignore[union-attr]


def test_an_operator_who_does_not_answer_is_no_attempt_on_the_customer(lab: Lab) -> None:
    callback_id = lab.new_callback()
    with Operator(1, "ring") as op1, Customer("answer") as customer:
        lab.call_back(callback_id, "op1", ring_timeout=3.0)
        op1.wait_for_event("CANCELLED", 15)
    attempt = lab.attempt(callback_id)
    assert attempt.result == "operator_no_answer"
    assert customer.events() == []  # the customer's phone never rang
    callback = lab.callback(callback_id)
    assert (callback["done"], callback["attempts"]) == (None, 0)
    assert lab.logged(attempt.linkedid)["outcome"] == "operator_no_answer"


def test_an_unknown_callback_is_refused_before_any_call(lab: Lab) -> None:
    with pytest.raises(CallbackError, match="does not exist"):
        lab.call_back(999_999, "op1")


def test_callers_behind_the_head_hear_their_place_and_one_presses_1(lab: Lab) -> None:
    """A caller behind the head hears their place and the periodic "press 1" reminder,
    presses 1, and is thanked. Asterisk 22.10 announces nothing to the head caller
    (announce-to-first-user = no: an operator answering mid-prompt would hear silence)."""
    agi = Service(["agi"], lab.env, lab.workdir / "agi.log", faketime=TUESDAY_9)
    agi.start("fastagi listening")
    offset = lab.asterisk.log_offset()
    head: list[CallerResult] = []
    try:
        with AmiEvents() as ami, Operator(1, "ring"):
            first = threading.Thread(
                target=lambda: head.append(
                    run_caller(number=HEAD, display_name="Ola", hold_seconds=60, timeout=100)
                )
            )
            first.start()
            head_decision = ami.wait_for(
                lambda f: (
                    f.get("UserEvent") == "CallcenterDecision" and f.get("CallerIDNum") == HEAD
                ),
                20,
            )
            ami.wait_for(
                lambda f: (
                    f.get("Event") == "QueueCallerJoin"
                    and f.get("Linkedid") == head_decision["Linkedid"]
                ),
                20,
            )
            result = run_caller(
                number=NUMBER, display_name="Ala", scenario="caller_press_1.xml",
                hold_seconds=40, timeout=80,
            ).check()  # fmt: skip
            decision = ami.wait_for(
                lambda f: (
                    f.get("UserEvent") == "CallcenterDecision" and f.get("CallerIDNum") == NUMBER
                ),
                10,
            )
            end = ami.wait_for(lambda f: f.get("UserEvent") == "CallcenterQueueEnd", 10)
            first.join(110)
    finally:
        agi.stop()
    head[0].check()
    assert "PRESSED_1" in result.output and result.hung_up_by == "asterisk"
    assert end["Status"] == "CALLBACK"
    heard = [p for p, _ in lab.asterisk.played_prompts(decision["Channel"], offset)]
    assert heard[0] == "callcenter/queue"
    assert "queue-thereare" in heard  # their place in the queue, in Polish
    assert "callcenter/queue_press_1" in heard
    assert heard[-1] == "callcenter/callback_requested"
    assert all(lang == "pl" for _, lang in lab.asterisk.played_prompts(decision["Channel"], offset))
    head_heard = [p for p, _ in lab.asterisk.played_prompts(head_decision["Channel"], offset)]
    assert head_heard == ["callcenter/queue"]
    call = lab.ended(decision["Linkedid"])
    assert call["outcome"] == "callback_requested"
    assert call["callback"] is not None
    callback = lab.callback(call["callback"])
    assert callback["requested"] is True
    assert callback["done"] is None
