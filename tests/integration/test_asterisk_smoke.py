"""Smoke test against a real Asterisk 22 with sipp: trunk -> dialplan -> FastAGI -> prompt/queue.

Runs the configuration in asterisk-conf/ through asterisk-conf/local-asterisk (provisions a
Debian-unstable chroot with Asterisk on first use). A FastAGI stub in the test plays the
routing service on 127.0.0.1:4573.

How a played prompt is asserted: from Asterisk's verbose log (<run>/log/full), which has
one line per file Asterisk starts to play, with the channel and the language:
    <PJSIP/trunk-00000003> Playing 'callcenter/no_contract.slin' (language 'pl')
The channel comes from the dialplan's AMI UserEvent "CallcenterDecision", so the
decision's publication to the AMI listener is checked on the way.
"""

from __future__ import annotations

import asyncio
import re
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from asterisk_harness import (
    AGI_ADDRESS,
    SUPPORT_NUMBER,
    AmiEvents,
    CallerResult,
    Frame,
    LocalAsterisk,
    Operator,
    port_accepts,
    run_caller,
)
from conftest_asterisk import local_asterisk

from dialplan.protocol import set_variables

__all__ = ["local_asterisk"]  # the fixture, imported for pytest

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="local Asterisk runs on Linux"),
    pytest.mark.asterisk,
    pytest.mark.timeout(1200),  # the first run may provision the Asterisk chroot
]

CALLER_NUMBER = "+48601234567"
CALLER_NAME = "Zażółć Gęślą"
WARSAW = ZoneInfo("Europe/Warsaw")
AGI_STEP_TIMEOUT = 10.0


@dataclass
class AgiStub:
    """A FastAGI server that answers every request with the same channel variables."""

    variables: dict[str, str]
    stall: bool = False  # read the request, then answer nothing (a hung service)
    requests: list[dict[str, str]] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            headers: dict[str, str] = {}
            while True:  # agi_* headers up to a blank line
                line = await asyncio.wait_for(reader.readline(), AGI_STEP_TIMEOUT)
                text = line.decode("utf-8").strip()
                if not text:
                    break
                key, _, value = text.partition(":")
                headers[key.strip()] = value.strip()
            self.requests.append(headers)
            if self.stall:  # Asterisk gives up and says so
                line = await asyncio.wait_for(reader.readline(), 3 * AGI_STEP_TIMEOUT)
                self.replies.append(line.decode().strip())
                return
            for command in set_variables(self.variables):  # the service's encoding
                writer.write(command)
                await writer.drain()
                reply = await asyncio.wait_for(reader.readline(), AGI_STEP_TIMEOUT)
                self.replies.append(reply.decode().strip())
        finally:
            writer.close()

    def call(self, **caller: object) -> CallerResult:
        """Serve on 127.0.0.1:4573 while one sipp call runs."""

        async def scenario() -> CallerResult:
            server = await asyncio.start_server(self.handle, *AGI_ADDRESS)
            async with server:
                return await asyncio.to_thread(run_caller, **caller)  # type: ignore[arg-type]

        return asyncio.run(scenario())


def is_decision(call: str) -> Callable[[Frame], bool]:
    def match(frame: Frame) -> bool:
        return (
            frame.get("Event") == "UserEvent"
            and frame.get("UserEvent") == "CallcenterDecision"
            and frame.get("Call") == call
        )

    return match


def in_fail_open_hours(now: datetime) -> bool:
    """The dialplan's fail-open window: Mon-Fri 08:00-15:59 Europe/Warsaw."""
    local = now.astimezone(WARSAW)
    return local.isoweekday() <= 5 and time(8, 0) <= local.time() < time(16, 0)


@pytest.mark.parametrize(
    ("use_pai", "variables", "expected_prompts"),
    [
        pytest.param(
            True,
            {"CC_ROUTE": "no_contract", "CC_REASON": "unknown_number", "CC_CONTRACT": ""},
            [("callcenter/no_contract", "pl"), ("callcenter/unknown_number", "pl")],
            id="no_contract-pai-polish",
        ),
        pytest.param(
            False,
            {
                "CC_ROUTE": "limit_reached",
                "CC_REASON": "answers_used",
                "CC_CONTRACT": "2026/007",
                "CC_NEXT_OPEN": "2026-11-25T08:00:00+01:00",
                "CC_LANG": "en",
            },
            [
                ("callcenter/limit_reached", "en"),
                ("callcenter/answers_used", "en"),
                ("callcenter/next_open", "en"),
                ("callcenter/time/weekday-3", "en"),  # 2026-11-25 is a Wednesday
                ("callcenter/time/day-25", "en"),
                ("callcenter/time/month-11", "en"),
                ("callcenter/time/hour-08", "en"),
            ],
            id="limit_reached-from-english-next-open",
        ),
        pytest.param(
            True,
            {
                "CC_ROUTE": "email_only",
                "CC_REASON": "email_plan",
                "CC_CONTRACT": "K/7, (b) Łódź",  # MSet would split it: one SET VARIABLE each
            },
            [("callcenter/email_only", "pl"), ("callcenter/email_plan", "pl")],
            id="email_only-contract-number-with-a-comma",
        ),
    ],
)
def test_routing_decision_reaches_agi_and_caller_hears_its_prompts(
    local_asterisk: LocalAsterisk,
    use_pai: bool,
    variables: dict[str, str],
    expected_prompts: list[tuple[str, str]],
) -> None:
    call_id = f"smoke-{uuid.uuid4().hex[:8]}"
    stub = AgiStub({**variables, "CC_CALL": call_id})
    offset = local_asterisk.log_offset()
    with AmiEvents() as ami:
        result = stub.call(
            number=CALLER_NUMBER, display_name=CALLER_NAME, use_pai=use_pai, hold_seconds=60
        ).check()
        decision = ami.wait_for(is_decision(call_id), timeout=10)

    # the AGI saw the caller as the carrier sent it, and our arguments
    [request] = stub.requests
    assert request["agi_network_script"] == "route"
    assert request["agi_callerid"] == CALLER_NUMBER
    assert request["agi_calleridname"] == CALLER_NAME
    assert request["agi_arg_1"] == CALLER_NUMBER
    assert request["agi_arg_2"] == SUPPORT_NUMBER
    assert request["agi_language"] == "pl"
    commands = set_variables(stub.variables)
    mset = commands[0].startswith(b"EXEC MSet ")
    assert stub.replies == ["200 result=0" if mset else "200 result=1"] * len(commands)

    # the decision is published to the AMI listener
    assert decision["Route"] == variables["CC_ROUTE"]
    assert decision["Reason"] == variables["CC_REASON"]
    assert decision["Contract"] == variables["CC_CONTRACT"]
    assert decision["AgiStatus"] == "SUCCESS"

    # a rejected route: the caller hears the prompts, then Asterisk hangs up
    assert result.hung_up_by == "asterisk", result.output
    assert local_asterisk.played_prompts(decision["Channel"], offset) == expected_prompts

    # and the caller's CDR carries the decision
    local_asterisk.wait_for_log(r"Spawn extension \(cc-route", offset)
    cdr = (local_asterisk.log_dir / "cdr-custom" / "Master.csv").read_text(encoding="utf-8")
    assert f"route={variables['CC_ROUTE']};reason={variables['CC_REASON']};call={call_id}" in cdr


def test_covered_caller_is_queued_and_an_operator_answers(local_asterisk: LocalAsterisk) -> None:
    call_id = f"smoke-{uuid.uuid4().hex[:8]}"
    stub = AgiStub({"CC_ROUTE": "queue", "CC_REASON": "covered", "CC_CONTRACT": "2026/001"})
    stub.variables["CC_CALL"] = call_id
    offset = local_asterisk.log_offset()
    with (
        AmiEvents() as ami,
        Operator(1, "answer", ring_seconds=1.0) as op1,
        Operator(2, "ring") as op2,
        Operator(3, "busy") as op3,
    ):
        result = stub.call(
            number=CALLER_NUMBER, display_name=CALLER_NAME, use_pai=True, hold_seconds=15
        ).check()
        decision = ami.wait_for(is_decision(call_id))
        op1.wait_for_event("BYE")
        op2.wait_for_event("CANCELLED")
        op3.wait_for_event("BUSY")
        connect = ami.wait_for(lambda f: f.get("Event") == "AgentConnect")
        ami.wait_for(lambda f: f.get("Event") == "AgentComplete")

    assert result.hung_up_by == "caller"
    assert decision["Route"] == "queue"
    assert local_asterisk.played_prompts(decision["Channel"], offset)[0] == (
        "callcenter/queue",
        "pl",
    )
    assert connect["Queue"] == "support"
    assert connect["Interface"] == "PJSIP/op1"
    assert connect["Uniqueid"] == decision["Uniqueid"]  # the caller's channel
    assert f"CC_CALL={call_id}" in connect.get("ChanVariable", "")
    called = {
        f["Interface"] for f in ami.events("AgentCalled") if f["Uniqueid"] == connect["Uniqueid"]
    }
    assert called == {"PJSIP/op1", "PJSIP/op2", "PJSIP/op3"}


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@pytest.mark.parametrize(
    ("service", "window"),
    [
        ("absent", "configured"),
        ("absent", "forced-open"),
        ("absent", "forced-closed"),
        ("stalled", "forced-closed"),
    ],
)
def test_fail_open_without_routing_service(
    local_asterisk: LocalAsterisk, service: str, window: str
) -> None:
    """No answer from the routing service: the queue during working hours, "closed" outside.

    service "absent": nothing listens on 4573; "stalled": it accepts and never answers
    (the dialplan gives it CC_AGI_TIMEOUT = 5 s). Window "configured" uses the real clock and
    the window of extensions.conf (Mon-Fri 08:00-15:59 Europe/Warsaw); the forced windows
    (dialplan globals) run both branches whatever the time of day.
    """
    assert not port_accepts(AGI_ADDRESS), "something serves 127.0.0.1:4573; stop it for this test"
    before = datetime.now(WARSAW)
    if window != "configured":
        other_day = WEEKDAYS[(before.weekday() + 3) % 7]
        days = "mon-sun" if window == "forced-open" else other_day
        local_asterisk.cli("dialplan set global CC_OPEN_TIMES 00:00-23:59")
        local_asterisk.cli(f"dialplan set global CC_OPEN_DAYS {days}")
    offset = local_asterisk.log_offset()
    # the closed prompts take about 12 s: hold longer, so Asterisk hangs up first there
    caller = {
        "number": CALLER_NUMBER,
        "display_name": CALLER_NAME,
        "use_pai": False,
        "hold_seconds": 10 if window == "forced-open" else 25,
    }
    stub = AgiStub({}, stall=True)
    try:
        with AmiEvents() as ami:
            result = stub.call(**caller) if service == "stalled" else run_caller(**caller)  # type: ignore[arg-type]
            result.check()
            # the tests run one call at a time: the first decision in this AMI session is ours
            decision = ami.wait_for(lambda f: f.get("UserEvent") == "CallcenterDecision")
    finally:
        if window != "configured":
            local_asterisk.cli("dialplan reload")  # globals back from extensions.conf
    after = datetime.now(WARSAW)

    assert decision["Reason"] == "fail_open"
    if service == "stalled":
        assert decision["AgiStatus"] == "TIMEOUT"
        assert stub.replies == ["HANGUP"]  # Asterisk told the service it gave up
    else:
        assert decision["AgiStatus"] == "FAILURE"
    if window == "configured":
        possible = {in_fail_open_hours(before), in_fail_open_hours(after)}  # both at 8:00/16:00
        expected = {"queue" if open_ else "closed" for open_ in possible}
    else:
        expected = {"queue" if window == "forced-open" else "closed"}
    assert decision["Route"] in expected
    prompts = local_asterisk.played_prompts(decision["Channel"], offset)
    if decision["Route"] == "queue":
        assert prompts[:1] == [("callcenter/queue", "pl")]
        assert result.hung_up_by == "caller"  # waited in the queue, no operator answered
        channel = re.escape(decision["Channel"])
        local_asterisk.wait_for_log(rf'Queue\("{channel}", "support,', offset)
    else:
        assert prompts == [("callcenter/closed", "pl"), ("callcenter/fail_open", "pl")]
        assert result.hung_up_by == "asterisk"
