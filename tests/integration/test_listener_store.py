"""The AMI listener's writing side on a real SQLite file and a real PostgreSQL server:
events in (built as the real Asterisk sends them), call log, callbacks and ticket drafts out.
Recorded real streams are replayed in tests/unit/pbx/test_replay.py; live calls in
tests/integration/test_calls_asterisk.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest_asyncio
from sqlalchemy import func, select

from callcenter.config import Settings
from callcenter.domain.contract_csv import parse_contracts
from callcenter.pbx.frames import Frame
from callcenter.pbx.listener import Listener
from callcenter.pbx.pops import ALL, PopHub
from callcenter.store import call_log, db, migrate
from callcenter.store import repositories as repo
from callcenter.store.models import CallbackRow, CallRow, TicketRow

CSV = (
    "number,customer,plan,billing,paid_from,paid_until,product,site_url,phones,email,"
    "accepted_at,daily_units\n"
    "A-1,Zakład Łódź,phone,yearly,2020-01-01,2099-12-31,SmodCMS,https://a.example.pl,"
    "601 234 567,a@a.pl,2019-12-20T10:15:00,\n"
)
# Tuesday 2026-11-24 09:00 Warsaw (08:00 UTC)
T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC).timestamp()


def frame(name: str, t: float, lid: str, **fields: str) -> Frame:
    pairs = {"Event": name, "Timestamp": f"{T0 + t:.6f}", "Uniqueid": lid, "Linkedid": lid}
    pairs.update(fields)
    return Frame.of(*pairs.items(), received_at=datetime.now(UTC))


def queued_call(lid: str, caller: str = "+48601234567", route: str = "queue") -> list[Frame]:
    return [
        frame(
            "Newchannel",
            0,
            lid,
            Channel="PJSIP/trunk-0000000a",
            CallerIDNum=caller,
            CallerIDName="Zażółć Gęślą",
            Exten="800",
        ),
        frame(
            "UserEvent",
            1,
            lid,
            UserEvent="CallcenterDecision",
            Route=route,
            Reason="covered" if route == "queue" else "outside_hours",
            Call=lid,
        ),
        frame("QueueCallerJoin", 2, lid, Queue="support", Position="1"),
        frame("AgentCalled", 2.1, lid, Interface="PJSIP/op1", DestChannel="PJSIP/op1-0000000b"),
    ]


class Env:
    def __init__(self, listener: Listener, hub: PopHub) -> None:
        self.listener, self.hub = listener, hub

    async def feed(self, frames: list[Frame]) -> None:
        for f in frames:
            await self.listener.handle(f)
        await self.listener.flush()

    def count(self, model: type) -> int:
        with self.listener.sessions() as s:
            return int(s.scalar(select(func.count()).select_from(model)) or 0)

    def call(self, lid: str) -> CallRow:
        with self.listener.sessions() as s:
            row = call_log.call_row(s, lid)
            assert row is not None
            _ = row.rings
            return row


@pytest_asyncio.fixture
async def env(database_url: str) -> AsyncIterator[Env]:
    engine = db.make_engine(database_url)
    migrate.upgrade(engine)
    with db.transaction(db.sessions(engine)) as s:
        repo.import_contracts(s, parse_contracts(CSV), datetime.now(UTC))
    hub = PopHub()
    listener = Listener(db.sessions(engine), Settings(database_url=database_url), hub)
    yield Env(listener, hub)
    await listener.close()
    engine.dispose()


async def test_an_answered_call_is_logged_once_with_a_ticket_draft(env: Env) -> None:
    lid = "1764000000.1"
    events = [
        *queued_call(lid),
        frame("AgentConnect", 6, lid, Interface="PJSIP/op1", HoldTime="4", RingTime="4"),
        frame("Hangup", 30, lid, Channel="PJSIP/trunk-0000000a"),
    ]
    await env.feed(events)
    await env.feed(events)  # replayed: the same log
    assert env.count(CallRow) == 1
    row = env.call(lid)
    assert (row.outcome, row.operator, row.wait_s, row.talk_s) == ("answered", "op1", 4.0, 24.0)
    assert row.caller_e164 == "+48601234567"
    assert [(r.endpoint, r.result) for r in row.rings] == [("op1", "answered")]
    with env.listener.sessions() as s:
        drafts = s.scalars(select(TicketRow).where(TicketRow.call_id == row.id)).all()
        assert [(t.status, t.operator) for t in drafts] == [("draft", "op1")]
        assert repo.requests(s, ["A-1"]) == []  # a draft uses no allowance


async def test_a_covered_callers_missed_calls_share_one_callback(env: Env) -> None:
    first, second = "1764000100.1", "1764000200.1"
    await env.feed(
        [
            *queued_call(first),
            frame("QueueCallerAbandon", 9, first, HoldTime="7"),
            frame("Hangup", 9, first, Channel="PJSIP/trunk-0000000a"),
        ]
    )
    second_call = [
        frame(
            f.event or "",
            600 + float(f.get("Timestamp", "0") or 0) - T0,
            second,
            **{
                k: v
                for k, v in f.as_dict().items()
                if k not in ("Event", "Timestamp", "Uniqueid", "Linkedid")
            },
        )
        for f in queued_call(second)
    ]
    await env.feed([*second_call, frame("Hangup", 700, second, Channel="PJSIP/trunk-0000000a")])
    assert env.call(first).outcome == "abandoned"
    assert env.call(second).outcome == "unanswered"
    with env.listener.sessions() as s:
        [callback] = s.scalars(select(CallbackRow)).all()
        # Missed on Tuesday 2026-11-24: due by the end of Wednesday.
        assert callback.due_at == datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
        assert callback.calls == 2
        assert env.call(first).callback_id == env.call(second).callback_id == callback.id


async def test_an_unknown_callers_missed_call_gets_no_callback(env: Env) -> None:
    lid = "1764000300.1"
    await env.feed(
        [
            *queued_call(lid, caller="+48699000000", route="no_contract")[:2],
            frame("Hangup", 5, lid, Channel="PJSIP/trunk-0000000a"),
        ]
    )
    assert env.call(lid).outcome == "rejected"
    assert env.count(CallbackRow) == 0


def decision(lid: str, *, route: str = "queue", reason: str = "covered", at: float = 1.0,
             caller: str = "+48601234567") -> repo.CallDecision:  # fmt: skip
    when = datetime.fromtimestamp(T0 + at, UTC)
    return repo.CallDecision(
        linkedid=lid, caller_raw=caller, caller_name="Zażółć Gęślą", caller_e164=caller,
        dialled="800", route=route, reason=reason, contract="A-1", contracts=("A-1",),
        covered=True, arrived_at=when, decided_at=when, decision_ms=1.0,
    )  # fmt: skip


async def test_pops_go_to_the_rung_operator_with_the_contract(env: Env) -> None:
    lid = "1764000400.1"
    with db.transaction(env.listener.sessions) as s:
        repo.record_decisions(s, [decision(lid)])
    async with (
        env.hub.subscribe("op1") as op1,
        env.hub.subscribe("op2") as op2,
        env.hub.subscribe(ALL) as wall,
    ):
        await env.feed(queued_call(lid))
        pop = await asyncio.wait_for(op1.get(), 5)
        assert pop["kind"] == "ringing"
        assert pop["contract"]["customer"] == "Zakład Łódź"
        assert pop["contract"]["allowance"]["left"] == 2
        assert pop["contract"]["installation"]["site_url"] == "https://a.example.pl"
        assert op2.empty()
        assert (await wall.get())["endpoint"] == "op1"


async def test_decisions_written_in_a_batch_merge_with_what_the_listener_logged(env: Env) -> None:
    """The routing service writes its decisions in batches, before or after the listener
    has seen the call: one row per call either way, the earliest arrival, and a fail-open
    the dialplan went through is kept."""
    seen_first, failed_open = "1764000500.1", "1764000500.2"
    await env.feed(queued_call(seen_first)[:1])  # Newchannel at T0
    await env.feed([
        *queued_call(failed_open)[:1],
        frame("UserEvent", 1, failed_open, UserEvent="CallcenterDecision", Route="queue",
              Reason="fail_open", Call=failed_open),
    ])  # fmt: skip
    fresh = "1764000500.3"
    with db.transaction(env.listener.sessions) as s:
        repo.record_decisions(s, [
            decision(seen_first, at=0.5),
            decision(failed_open, route="closed", reason="outside_hours"),  # came too late
            decision(fresh, route="closed", reason="outside_hours", at=2.0),
            decision(fresh, at=3.0),  # the same request answered twice: the last wins
        ])  # fmt: skip
    first = env.call(seen_first)
    assert (first.route, first.reason, first.contract) == ("queue", "covered", "A-1")
    assert first.arrived_at == datetime.fromtimestamp(T0, UTC)  # the listener saw it first
    assert first.state == "arrived" and first.caller_name == "Zażółć Gęślą"
    assert (env.call(failed_open).route, env.call(failed_open).reason) == ("queue", "fail_open")
    again = env.call(fresh)
    assert (again.route, again.reason) == ("queue", "covered")
    assert again.arrived_at == datetime.fromtimestamp(T0 + 3.0, UTC)
    assert env.count(CallRow) == 3
    with db.transaction(env.listener.sessions) as s:  # written again: nothing changes
        repo.record_decisions(s, [decision(seen_first, at=0.5)])
    assert env.count(CallRow) == 3
    assert env.call(seen_first).arrived_at == datetime.fromtimestamp(T0, UTC)


def answered_call(lid: str) -> list[Frame]:
    """A queued call ringing op1, answered and hung up."""
    return [
        *queued_call(lid),
        frame("AgentConnect", 6, lid, Interface="PJSIP/op1", HoldTime="4", RingTime="4"),
        frame("Hangup", 30, lid, Channel="PJSIP/trunk-0000000a"),
    ]


async def test_pops_of_calls_in_one_read_share_a_batch_and_keep_their_order(env: Env) -> None:
    """Two calls ring op1, are answered and end within one read from Asterisk: the
    contract summaries are read together, and each call's pops reach the screen in the
    order of its events (ringing with the contract first), not when the read finished."""
    with db.transaction(env.listener.sessions) as s:
        repo.record_decisions(s, [decision("1764000600.1"), decision("1764000600.2")])
    reads: list[int] = []
    original = env.listener._pop_infos_read

    def counted(calls: list[Any]) -> dict[str, dict[str, Any]]:
        reads.append(len(calls))
        return original(calls)

    env.listener._pop_infos_read = counted  # type: ignore[method-assign]
    async with env.hub.subscribe("op1") as op1:
        for f in answered_call("1764000600.1") + answered_call("1764000600.2"):
            await env.listener.handle(f)  # one read's events, handled without a pause
        seen = [await asyncio.wait_for(op1.get(), 5) for _ in range(6)]
    assert reads == [2]
    for lid in ("1764000600.1", "1764000600.2"):
        kinds = [p["kind"] for p in seen if p["linkedid"] == lid]
        assert kinds == ["ringing", "answered", "ended"], kinds
        [ringing] = [p for p in seen if p["linkedid"] == lid and p["kind"] == "ringing"]
        assert ringing["contract"]["number"] == "A-1"


async def test_a_failed_contract_read_still_pops_the_call(env: Env) -> None:
    def broken(calls: list[Any]) -> dict[str, dict[str, Any]]:
        raise RuntimeError("database gone")

    env.listener._pop_infos_read = broken  # type: ignore[method-assign]
    async with env.hub.subscribe("op1") as op1:
        await env.feed(queued_call("1764000700.1"))
        pop = await asyncio.wait_for(op1.get(), 5)
    assert (pop["kind"], pop["linkedid"], pop["caller"]) == ("ringing", "1764000700.1",
                                                             "+48601234567")  # fmt: skip
    assert "contract" not in pop


async def test_a_national_caller_id_is_read_in_the_configured_region(database_url: str) -> None:
    """No decision logged (the routing service was down): the listener normalises the
    caller itself, in the region the settings name, as every other door does."""
    engine = db.make_engine(database_url)
    migrate.upgrade(engine)
    settings = Settings(database_url=database_url, region="DE")
    listener = Listener(db.sessions(engine), settings, PopHub())
    lid = "1764000800.1"
    for f in queued_call(lid, caller="030 12345678")[:1]:
        await listener.handle(f)
    await listener.flush()
    with listener.sessions() as s:
        row = call_log.call_row(s, lid)
        assert row is not None and row.caller_e164 == "+493012345678"
    await listener.close()
    engine.dispose()


async def test_a_queued_callers_contract_is_read_while_they_hear_the_greeting(env: Env) -> None:
    """The decision sends the caller to the queue; the greeting plays for seconds before the
    operators' phones ring. The contract summary is read in that time (after READ_AHEAD_S),
    so the ringing pop, when it comes, has it without a read of its own."""
    lid = "1764000900.1"
    with db.transaction(env.listener.sessions) as s:
        repo.record_decisions(s, [decision(lid)])
    reads: list[list[str]] = []
    original = env.listener._pop_infos_read

    def counted(calls: list[Any]) -> dict[str, dict[str, Any]]:
        reads.append([c.linkedid for c in calls])
        return original(calls)

    env.listener._pop_infos_read = counted  # type: ignore[method-assign]
    decided, rest = queued_call(lid)[:2], queued_call(lid)[2:]
    async with env.hub.subscribe("op1") as op1:
        for f in decided:  # Newchannel, then the decision: the greeting starts
            await env.listener.handle(f)
        ahead = await asyncio.wait_for(_read_ahead(env.listener, lid), 5)
        await asyncio.wait_for(ahead, 5)  # read, before any phone rang
        assert reads == [[lid]]
        for f in rest:  # the queue: op1 rings
            await env.listener.handle(f)
        pop = await asyncio.wait_for(op1.get(), 5)
    assert reads == [[lid]]  # the ringing pop used the summary read ahead
    assert (pop["kind"], pop["contract"]["number"]) == ("ringing", "A-1")
    assert env.listener._ahead == {} and env.listener._ahead_timers == {}


async def test_nothing_is_read_ahead_when_no_screen_is_open(env: Env) -> None:
    lid = "1764000950.1"
    for f in queued_call(lid)[:2]:
        await env.listener.handle(f)
    assert env.listener._ahead_timers == {} and env.listener._ahead == {}


async def _read_ahead(listener: Listener, lid: str) -> asyncio.Future[dict[str, Any]]:
    """The summary read ahead for `lid`, once its timer has fired (the caller bounds it)."""
    while lid not in listener._ahead:
        await asyncio.sleep(0.05)
    return listener._ahead[lid]
