"""Real calls through the local Asterisk 22, placed by sipp, routed by our FastAGI service
(run as `callcenter agi` under libfaketime at a chosen Warsaw hour), followed by our AMI
listener into a SQLite call log; faults injected on the way.

Prompts are asserted from Asterisk's verbose log (see asterisk_harness.played_prompts), the
decision from the dialplan's AMI UserEvent, and the log from `callcenter calls list --json`.
Every wait is on a fact (an AMI event, a resync, a call-log row), bounded; the pauses
left are the scenario's own (how long a caller holds, how long a phone rings).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import threading
from collections.abc import Iterator
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
    port_accepts,
    run_caller,
)
from conftest_asterisk import local_asterisk
from listener_thread import ThreadedListener
from services import Service, cli_json, logged_call

from callcenter.config import Settings
from callcenter.store import db, migrate
from tests.support.agi_client import call
from tests.support.agi_client import headers as agi_headers
from tests.support.waits import wait_for

__all__ = ["local_asterisk"]

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="local Asterisk runs on Linux"),
    pytest.mark.asterisk,
    pytest.mark.timeout(600),
]

TUESDAY_9 = "2026-11-24 09:00:00"  # a working day, working hours (Warsaw)
SATURDAY_10 = "2026-11-28 10:00:00"
CSV = """number,customer,plan,billing,paid_from,paid_until,product,site_url,phones,email,accepted_at,daily_units
L-1,Zakład Usług Łódź,phone,yearly,2026-01-01,2026-12-31,SmodCMS,https://l1.example.pl,+48601000001,l1@example.pl,2025-12-20T10:00:00,
L-2,Ośrodek Kultury,email,yearly,2026-01-01,2026-12-31,SmodBIP,https://l2.example.pl,+48601000002,l2@example.pl,2025-12-20T10:00:00,
L-3,Sklep Bąk,phone,monthly,2026-05-01,2026-05-31,SmodSKLEP,https://l3.example.pl,+48601000003,l3@example.pl,2026-04-30T10:00:00,
L-4,Agencja Świt,phone,yearly,2026-01-01,2026-12-31,SmodCMS,https://l4.example.pl,+48601000004,l4@example.pl,2025-12-20T10:00:00,
L-5,Fundacja Źródło,phone,yearly,2026-01-01,2026-12-31,SmodFM,https://l5.example.pl,+48601000005,l5@example.pl,2025-12-20T10:00:00,
"""


class Lab:
    """The database, the listener and a way to run the routing service at a chosen hour."""

    def __init__(self, asterisk: LocalAsterisk, workdir: Path, url: str) -> None:
        self.asterisk = asterisk
        self.workdir = workdir
        self.env = {
            "CALLCENTER_DATABASE_URL": url,
            "CALLCENTER_ASTERISK_LOG_DIR": str(asterisk.log_dir),
        }
        self.listener: ThreadedListener | None = None

    def agi(self, at: str, **env: str) -> Service:
        return Service(["agi"], {**self.env, **env}, self.workdir / "agi.log", faketime=at)

    def calls(self) -> list[dict[str, Any]]:
        found = cli_json(self.env, "calls", "list")
        assert isinstance(found, list)
        return found

    def call(self, linkedid: str, timeout: float = 30.0) -> dict[str, Any]:
        """The call's log entry once it has ended; it must be there exactly once."""
        return logged_call(self.env, linkedid, timeout)


@pytest.fixture(scope="module")
def lab(local_asterisk: LocalAsterisk, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    workdir = tmp_path_factory.mktemp("calls")
    url = f"sqlite:///{workdir / 'callcenter.db'}"
    engine = db.make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    (workdir / "contracts.csv").write_text(CSV, encoding="utf-8")
    lab = Lab(local_asterisk, workdir, url)
    cli_json(lab.env, "contracts", "import", str(workdir / "contracts.csv"))
    for minute in ("09:00", "09:10"):  # L-4 used today's two answers on Tuesday 2026-11-24
        cli_json(
            lab.env, "tickets", "add", "L-4", "--kind", "answer", "--at", f"2026-11-24T{minute}"
        )
    settings = Settings(
        database_url=url, asterisk_log_dir=str(local_asterisk.log_dir),
        ami_host=AMI_ADDRESS[0], ami_port=AMI_ADDRESS[1], ami_user=AMI_USER,
        ami_secret=AMI_SECRET,
    )  # fmt: skip
    lab.listener = ThreadedListener(settings).start()
    lab.listener.wait_resynced(timeout=30)  # logged in, and what came before reconciled
    try:
        yield lab
    finally:
        lab.listener.stop()


def decision_of(ami: AmiEvents, number: str, timeout: float = 20) -> dict[str, str]:
    return ami.wait_for(
        lambda f: (
            f.get("UserEvent") == "CallcenterDecision"
            and f.get("CallerIDNum", number) in (number, "anonymous")
        ),
        timeout,
        f"the dialplan's CallcenterDecision UserEvent for {number}",
    )


def event_time(ami: AmiEvents, name: str, **fields: str) -> float:
    """When Asterisk stamped the event (its `Timestamp`, manager.conf timestampevents)."""
    return float(ami.wait_for_event(name, 10, **fields)["Timestamp"])


def in_background(**caller: Any) -> tuple[threading.Thread, list[CallerResult]]:
    results: list[CallerResult] = []
    thread = threading.Thread(target=lambda: results.append(run_caller(**caller)))
    thread.start()
    return thread, results


# --- every route, reached by a real call ---------------------------------------------------

ROUTES = [
    # id, fake time, number, scenario, route, reason, prompts heard, contract
    ("anonymous", TUESDAY_9, "+48601000001", "caller_withheld.xml", "anonymous", "withheld",
     ["anonymous", "withheld"], ""),
    ("closed", SATURDAY_10, "+48601000005", None, "closed", "weekend",
     ["closed", "weekend", "next_open", "time/weekday-1", "time/day-30", "time/month-11",
      "time/hour-08"], "L-5"),
    ("no_contract", TUESDAY_9, "+48601000009", None, "no_contract", "unknown_number",
     ["no_contract", "unknown_number"], ""),
    ("email_only", TUESDAY_9, "+48601000002", None, "email_only", "email_plan",
     ["email_only", "email_plan"], "L-2"),
    ("expired", TUESDAY_9, "+48601000003", None, "expired", "expired", ["expired"], "L-3"),
    ("limit_reached", TUESDAY_9, "+48601000004", None, "limit_reached", "answers_used",
     ["limit_reached", "answers_used", "next_open", "time/weekday-3", "time/day-25",
      "time/month-11", "time/hour-08"], "L-4"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("at", "number", "scenario", "route", "reason", "prompts", "contract"),
    [pytest.param(*r[1:], id=r[0]) for r in ROUTES],
)
def test_every_route_is_reached_by_a_real_call_and_logged_once(
    lab: Lab, at: str, number: str, scenario: str | None, route: str, reason: str,
    prompts: list[str], contract: str,
) -> None:  # fmt: skip
    agi = lab.agi(at).start("fastagi listening")
    offset = lab.asterisk.log_offset()
    try:
        with AmiEvents() as ami:
            result = run_caller(
                number=number, display_name="Zażółć Gęślą", scenario=scenario, hold_seconds=40
            ).check()
            decision = decision_of(ami, number)
    finally:
        agi.stop()
    assert (decision["Route"], decision["Reason"], decision["AgiStatus"]) == (
        route, reason, "SUCCESS")  # fmt: skip
    assert decision["Contract"] == contract
    assert result.hung_up_by == "asterisk"  # the message, then Asterisk hangs up
    heard = lab.asterisk.played_prompts(decision["Channel"], offset)
    assert heard == [(f"callcenter/{p}", "pl") for p in prompts]

    logged = lab.call(decision["Linkedid"])
    assert (logged["route"], logged["reason"], logged["outcome"]) == (route, reason, "rejected")
    assert logged["caller_name"] == (
        "Zażółć Gęślą" if route != "anonymous" else logged["caller_name"]
    )
    if route == "closed":  # a covered customer's missed call: a callback, due Tue 16:00
        assert logged["covered"] is True
        assert logged["callback"] is not None
        [callback] = [
            c
            for c in cli_json(lab.env, "callbacks", "list")  # type: ignore[union-attr]
            if c["id"] == logged["callback"]
        ]
        assert callback["number"] == number


# --- the queue: answered, abandoned, unanswered ------------------------------------------


def test_a_covered_caller_rings_operators_and_one_answers(lab: Lab) -> None:
    agi = lab.agi(TUESDAY_9).start("fastagi listening")
    try:
        with (
            AmiEvents() as ami,
            Operator(1, "answer", ring_seconds=2.0) as op1,
            Operator(2, "ring"),
            Operator(3, "busy"),
        ):
            result = run_caller(
                number="+48601000001", display_name="Łukasz Żak", hold_seconds=16
            ).check()
            decision = decision_of(ami, "+48601000001")
            op1.wait_for_event("BYE")
            linkedid = decision["Linkedid"]
            # what Asterisk says happened, and when: the log must measure the same
            joined = event_time(ami, "QueueCallerJoin", Linkedid=linkedid)
            op1_rung = event_time(ami, "AgentCalled", Linkedid=linkedid, MemberName="op1")
            connected = event_time(ami, "AgentConnect", Linkedid=linkedid)
            hung_up = event_time(ami, "Hangup", Uniqueid=linkedid)
    finally:
        agi.stop()
    assert result.hung_up_by == "caller"
    assert (decision["Route"], decision["Reason"], decision["Contract"]) == (
        "queue", "covered", "L-1")  # fmt: skip
    logged = lab.call(decision["Linkedid"])
    assert logged["outcome"] == "answered"
    assert logged["operator"] == "op1"
    assert logged["caller_name"] == "Łukasz Żak"
    assert logged["contract"] == "L-1"
    assert logged["wait_seconds"] == pytest.approx(connected - joined, abs=1.0)
    assert logged["talk_seconds"] == pytest.approx(hung_up - connected, abs=1.0)
    rings = {r["operator"]: r for r in logged["rings"]}
    assert rings["op1"]["result"] == "answered"
    assert rings["op1"]["seconds"] >= 1.5  # the phone rang 2 s before it answered
    assert rings["op1"]["seconds"] == pytest.approx(connected - op1_rung, abs=1.0)
    assert rings["op2"]["result"] in ("cancelled", "no_answer")
    assert rings["op3"]["result"] in ("busy", "no_answer")
    # screen pops: the contract on op1's screen, only on the screens that rang
    pops = [p for p in lab.listener.pops if p["linkedid"] == decision["Linkedid"]]  # type: ignore[union-attr]
    ringing = [p for p in pops if p["kind"] == "ringing"]
    assert {p["endpoint"] for p in ringing} <= {"op1", "op2", "op3"}
    op1_pop = next(p for p in ringing if p["endpoint"] == "op1")
    assert op1_pop["contract"]["number"] == "L-1"
    assert op1_pop["contract"]["customer"] == "Zakład Usług Łódź"
    assert {(p["kind"], p["endpoint"]) for p in pops} >= {("answered", "op1"), ("ended", "op1")}


def test_abandoned_then_unanswered_calls_share_one_callback(lab: Lab) -> None:
    """Clause 3: a covered customer's missed calls become one callback item (same caller
    within the window)."""
    agi = lab.agi(TUESDAY_9).start("fastagi listening")
    lab.asterisk.cli("dialplan set global CC_QUEUE_TIMEOUT 6")
    try:
        with AmiEvents() as ami, Operator(1, "ring"), Operator(2, "ring"):
            run_caller(
                number="+48601000001",
                display_name="Ala",
                hold_seconds=4,
                scenario="caller_abandon.xml",
            ).check()
            first = decision_of(ami, "+48601000001")
            ami.frames.clear()
            second_result = run_caller(
                number="+48601000001", display_name="Ala", hold_seconds=40
            ).check()
            second = decision_of(ami, "+48601000001")
            joined = event_time(ami, "QueueCallerJoin", Linkedid=second["Linkedid"])
            left = event_time(ami, "QueueCallerLeave", Linkedid=second["Linkedid"])
    finally:
        lab.asterisk.cli("dialplan reload")
        agi.stop()
    assert second_result.hung_up_by == "asterisk"  # the queue timed out
    abandoned, unanswered = lab.call(first["Linkedid"]), lab.call(second["Linkedid"])
    assert abandoned["outcome"] == "abandoned"
    assert unanswered["outcome"] == "unanswered"
    assert unanswered["wait_seconds"] >= 5  # the whole CC_QUEUE_TIMEOUT (6 s)
    assert unanswered["wait_seconds"] == pytest.approx(left - joined, abs=1.0)
    assert abandoned["callback"] is not None
    assert abandoned["callback"] == unanswered["callback"]
    [callback] = [
        c
        for c in cli_json(lab.env, "callbacks", "list")  # type: ignore[union-attr]
        if c["id"] == abandoned["callback"]
    ]
    assert callback["calls"] >= 2


# --- failing open ----------------------------------------------------------------------------


def test_routing_service_stopped_calls_fail_open_and_are_logged(lab: Lab) -> None:
    assert not port_accepts(("127.0.0.1", 4573))
    lab.asterisk.cli("dialplan set global CC_OPEN_TIMES 00:00-23:59")
    lab.asterisk.cli("dialplan set global CC_OPEN_DAYS mon-sun")
    lab.asterisk.cli("dialplan set global CC_QUEUE_TIMEOUT 5")
    try:
        with AmiEvents() as ami:
            run_caller(number="+48601000001", display_name="Ala", hold_seconds=30).check()
            decision = decision_of(ami, "+48601000001")
    finally:
        lab.asterisk.cli("dialplan reload")
    assert (decision["Route"], decision["Reason"], decision["AgiStatus"]) == (
        "queue", "fail_open", "FAILURE")  # fmt: skip
    logged = lab.call(decision["Linkedid"])
    assert (logged["route"], logged["reason"], logged["outcome"]) == (
        "queue", "fail_open", "unanswered")  # fmt: skip
    assert logged["contract"] == "L-1"  # identified by the listener afterwards


def test_a_caller_who_hangs_up_before_any_decision_is_failed(lab: Lab) -> None:
    """The routing service accepts and never answers; the caller hangs up before the
    dialplan's AGI timeout: no decision was ever published, the outcome is `failed`."""
    stalled: list[socket.socket] = []
    server = socket.create_server(("127.0.0.1", 4573))
    server.settimeout(30)

    def accept() -> None:
        with contextlib.suppress(OSError):
            stalled.append(server.accept()[0])  # read nothing, answer nothing

    acceptor = threading.Thread(target=accept)
    acceptor.start()
    try:
        with AmiEvents() as ami:
            run_caller(
                number="+48601000001",
                display_name="Ala",
                hold_seconds=2,
                scenario="caller_abandon.xml",
            ).check()
            new = ami.wait_for(
                lambda f: f.get("Event") == "Newchannel" and f.get("Uniqueid") == f.get("Linkedid"),
                10,
                "the caller's Newchannel",
            )
    finally:
        acceptor.join(35)
        for conn in stalled:
            conn.close()
        server.close()
    logged = lab.call(new["Linkedid"])
    assert (logged["route"], logged["outcome"]) == (None, "failed")


def _answers_fail_open(probe: int) -> bool:
    """One AGI request to the routing service, as Asterisk would send it: fail_open?"""
    exchange = asyncio.run(
        call(4573, agi_headers("+48601000001", uniqueid=f"probe.{probe}"), timeout=10)
    )
    return exchange.variables.get("CC_REASON") == "fail_open"


@pytest.mark.postgres
def test_a_slow_store_fails_open_within_the_deadline(
    local_asterisk: LocalAsterisk, postgres_url: str, tmp_path: Path
) -> None:
    """Every table locked: once the service's in-memory copy is stale it asks the store, and
    answers `fail_open` when its deadline (0.5 s) passes, well before the dialplan's own
    (CC_AGI_TIMEOUT, 5 s, after which Asterisk would fail open without it)."""
    env = {"CALLCENTER_DATABASE_URL": postgres_url, "CALLCENTER_AGI_DEADLINE": "0.5"}
    engine = db.make_engine(postgres_url)
    migrate.upgrade(engine)
    engine.dispose()
    (tmp_path / "c.csv").write_text(CSV, encoding="utf-8")
    cli_json(env, "contracts", "import", str(tmp_path / "c.csv"))
    agi = Service(["agi"], env, tmp_path / "agi.log", faketime=TUESDAY_9)
    agi.start("fastagi listening")
    try:
        decision = _call_with_the_store_locked(local_asterisk, postgres_url)
        # SUCCESS: the service answered within the dialplan's AGI timeout, the store locked
        # all along; how fast is bench/agi_latency.py's business (`--slow-store`).
        assert (decision["Route"], decision["Reason"], decision["AgiStatus"]) == (
            "queue",
            "fail_open",
            "SUCCESS",
        )
        logged_call(
            env,
            decision["Linkedid"],
            until=lambda c: c["reason"] == "fail_open",
            what="logged as fail_open once the store is unlocked",
        )
    finally:
        agi.stop()


def _call_with_the_store_locked(asterisk: LocalAsterisk, postgres_url: str) -> dict[str, str]:
    import psycopg
    from sqlalchemy.engine import make_url

    plain = make_url(postgres_url).set(drivername="postgresql").render_as_string(False)
    locker = psycopg.connect(plain)
    locker.execute("LOCK TABLE contracts, calls, routing_changes IN ACCESS EXCLUSIVE MODE")
    asterisk.cli("dialplan set global CC_QUEUE_TIMEOUT 3")
    try:
        # The service's in-memory copy goes stale 2 s after its last read of the store;
        # until then it answers from memory. Ask it (as Asterisk would) until it fails open.
        probes = iter(range(1_000))
        wait_for(
            lambda: _answers_fail_open(next(probes)),
            30,
            "the routing service answering fail_open (its copy stale behind the lock)",
            every=0.5,
        )
        with AmiEvents() as ami:
            run_caller(number="+48601000001", display_name="Ala", hold_seconds=20).check()
            return decision_of(ami, "+48601000001")
    finally:
        locker.rollback()
        locker.close()
        asterisk.cli("dialplan reload")


# --- faults during calls ---------------------------------------------------------------------


def _restart(asterisk: LocalAsterisk) -> None:
    asterisk.stop()
    asterisk.start()


@pytest.mark.parametrize("moment", ["queued", "answered"])
def test_asterisk_restarted_during_a_call(lab: Lab, moment: str) -> None:
    listener = lab.listener
    assert listener is not None
    agi = lab.agi(TUESDAY_9).start("fastagi listening")
    behaviour = "answer" if moment == "answered" else "ring"
    try:
        with AmiEvents() as ami, Operator(1, behaviour, ring_seconds=1.0):  # type: ignore[arg-type]
            thread, _ = in_background(
                number="+48601000001", display_name="Ala", hold_seconds=60, timeout=90
            )
            decision = decision_of(ami, "+48601000001")
            linkedid = decision["Linkedid"]
            event = "AgentConnect" if moment == "answered" else "AgentCalled"
            ami.wait_for_event(event, 20, Linkedid=linkedid)
            # Restart only once the call log holds the call in this state (the operator
            # known, for a call in talk): what the listener must carry through the restart.
            logged_call(
                lab.env, linkedid,
                until=lambda c: c["state"] == moment and (moment == "queued" or c["operator"]),
                what=f"{moment} (the listener's write before the restart)",
            )  # fmt: skip
            resyncs = listener.resyncs
            _restart(lab.asterisk)
            thread.join(120)
    finally:
        agi.stop()
    listener.wait_resynced(more_than=resyncs, timeout=60)  # back, and the gap reconciled
    logged = lab.call(decision["Linkedid"], timeout=60)
    assert logged["outcome"] == ("answered" if moment == "answered" else "unanswered") or (
        moment == "queued" and logged["outcome"] == "abandoned"
    )
    if moment == "answered":
        assert logged["operator"] == "op1"
        assert logged["talk_seconds"] > 0


def test_ami_cut_for_a_few_seconds_the_call_is_closed_from_asterisks_records(lab: Lab) -> None:
    listener = lab.listener
    assert listener is not None
    agi = lab.agi(TUESDAY_9).start("fastagi listening")
    try:
        with AmiEvents() as ami, Operator(1, "answer", ring_seconds=1.0):
            thread, results = in_background(
                number="+48601000001", display_name="Ala", hold_seconds=14
            )
            decision = decision_of(ami, "+48601000001")
            linkedid = decision["Linkedid"]
            ami.wait_for_event("QueueCallerJoin", 10, Linkedid=linkedid)
            listener.call_soon(listener.proxy.cut, 15.0)  # the whole call happens in the gap
            thread.join(60)
            results[0].check()
            talked = event_time(ami, "Hangup", Uniqueid=linkedid) - event_time(
                ami, "AgentConnect", Linkedid=linkedid
            )  # as Asterisk saw it (this test's own AMI connection was not cut)
    finally:
        agi.stop()
    logged = lab.call(decision["Linkedid"], timeout=60)
    assert logged["outcome"] == "answered"
    assert logged["operator"] == "op1"
    # from queue_log and the CDR (whole seconds, some of them)
    assert logged["talk_seconds"] == pytest.approx(talked, abs=1.5)


def test_malformed_frames_are_logged_and_skipped(lab: Lab) -> None:
    listener = lab.listener
    assert listener is not None
    agi = lab.agi(TUESDAY_9).start("fastagi listening")
    junk = b"this is not a header\r\nEvent: Hangup\r\nUniqueid\r\n\r\n\xff\xfe\r\n\r\n"
    try:
        with AmiEvents() as ami:
            thread, _ = in_background(number="+48601000009", display_name="Ala", hold_seconds=30)
            decision = decision_of(ami, "+48601000009")
            listener.call_soon(listener.proxy.inject, junk)
            thread.join(60)
    finally:
        agi.stop()
    logged = lab.call(decision["Linkedid"])
    assert (logged["route"], logged["outcome"]) == ("no_contract", "rejected")


def test_a_wrong_ami_password_is_a_clear_error(lab: Lab) -> None:
    listen = Service(
        ["listen"], {**lab.env, "CALLCENTER_AMI_SECRET": "wrong"}, lab.workdir / "listen-wrong.log"
    )
    with pytest.raises(RuntimeError, match="AMI login refused"):  # it exits, saying why
        listen.start("never printed", timeout=90)
    assert listen.stop() != 0
    assert "s3cr3t" not in listen.text()  # the secret is never logged


def test_every_call_placed_is_in_the_log_exactly_once(lab: Lab) -> None:
    calls = lab.calls()
    ids = [c["linkedid"] for c in calls]
    assert len(ids) == len(set(ids))
    assert all(c["state"] == "ended" for c in calls), [c for c in calls if c["state"] != "ended"]
