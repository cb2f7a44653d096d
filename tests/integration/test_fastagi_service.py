"""The FastAGI routing service over real loopback TCP, on a real SQLite file or PostgreSQL.

A small client plays Asterisk's side of the protocol (tests/support/agi_client.py); calls
through a real Asterisk are in test_calls_asterisk.py. These tests check what the service
does, never how fast: answer times are bench/agi_latency.py's (`--slow-store` for the
deadline's fail-open answer).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url

from callcenter.domain.contract_csv import parse_contracts
from callcenter.domain.terms import Route, TicketKind
from callcenter.services import route_call
from callcenter.store import db, migrate
from callcenter.store import repositories as repo
from dialplan.routing import RoutingService
from dialplan.server import GuardedApplication, start_server
from tests.support.agi_client import call, headers
from tests.support.waits import until

CSV = (
    "number,customer,plan,billing,paid_from,paid_until,product,site_url,phones,email,"
    "accepted_at,daily_units\n"
    "A-1,Zakład Łódź,phone,yearly,2020-01-01,2099-12-31,SmodCMS,https://a.example.pl,"
    "601 234 567,a@a.pl,2019-12-20T10:15:00,\n"
    '"B/2, (Łódź)",Biuro,email,yearly,2020-01-01,2099-12-31,SmodCMS,https://b.example.pl,'
    "601 234 568,b@b.pl,2019-12-20T10:15:00,\n"
)


class Running:
    def __init__(self, app: GuardedApplication, service: RoutingService, port: int) -> None:
        self.app, self.service, self.port = app, service, port
        self.stop = asyncio.Event()
        self.follower = asyncio.create_task(service.follow_changes(self.stop))

    async def close(self, server: asyncio.Server) -> None:
        self.stop.set()
        await self.follower
        server.close()
        await server.wait_closed()
        await self.service.drain()


async def _start(
    url: str, deadline: float = 1.5, log_process: bool = False
) -> tuple[Running, asyncio.Server]:
    engine = db.make_engine(url)
    migrate.upgrade(engine)
    with db.transaction(db.sessions(engine)) as s:
        repo.import_contracts(s, parse_contracts(CSV), datetime.now(UTC))
    service = RoutingService(
        db.sessions(engine), deadline=deadline, stale_after=1.0,
        log_url=url if log_process else None,
    )  # fmt: skip
    app = GuardedApplication()
    app.add_route("route", service.handle)
    server = await start_server(app, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    running = Running(app, service, port)
    await until(lambda: service.snapshot is not None, 10, "the routing snapshot loaded")
    return running, server


@pytest_asyncio.fixture
async def agi(database_url: str) -> AsyncIterator[Running]:
    running, server = await _start(database_url)
    yield running
    await running.close(server)


def _logged(running: Running, linkedid: str) -> repo.CallDecision | None:
    with running.service.sessions() as s:
        return repo.call_by_linkedid(s, linkedid)


async def _until_logged(running: Running, linkedid: str) -> repo.CallDecision:
    return await until(
        lambda: _logged(running, linkedid), 10, f"call {linkedid} in the call log", every=0.05
    )


@pytest.mark.parametrize("name", ["unknown", "<unknown>"])
async def test_asterisks_word_for_no_caller_name_is_logged_as_no_name(
    agi: Running, name: str
) -> None:
    """AGI says `agi_calleridname: unknown` when the caller gave no name (the AMI says
    "<unknown>"): no screen or log should show Asterisk's placeholder as the caller's name."""
    await call(agi.port, headers("601234567", uniqueid="1.2", name=name))
    logged = await _until_logged(agi, "1.2")
    assert logged.caller_name == ""


async def test_a_request_gets_the_routing_contract_and_the_call_is_logged(
    agi: Running,
) -> None:
    exchange = await call(agi.port, headers("601234567", uniqueid="1.1", name="Zażółć Gęślą"))
    variables = exchange.variables
    assert set(variables) == {"CC_ROUTE", "CC_REASON", "CC_CONTRACT", "CC_CALL", "CC_NEXT_OPEN"}
    assert variables["CC_CALL"] == "1.1"
    assert len(exchange.commands) == 1  # one round trip: EXEC MSet
    assert exchange.commands[0].startswith("EXEC MSet ")
    logged = await _until_logged(agi, "1.1")
    assert logged.route == variables["CC_ROUTE"]
    assert logged.reason == variables["CC_REASON"]
    assert logged.caller_e164 == "+48601234567"
    assert logged.caller_name == "Zażółć Gęślą"
    # The rule that decided and its why, for the call's timeline (issue 12).
    assert logged.rule and logged.why
    # Whatever the hour, the rules engine answered (not fail_open) and named the contract.
    assert variables["CC_REASON"] != "fail_open"
    assert logged.covered is True
    if variables["CC_ROUTE"] == Route.QUEUE:
        assert variables["CC_CONTRACT"] == "A-1"
    else:
        assert variables["CC_ROUTE"] == Route.CLOSED
        assert variables["CC_NEXT_OPEN"].endswith(("+01:00", "+02:00"))


async def test_values_mset_would_split_are_set_one_variable_at_a_time(agi: Running) -> None:
    """A contract number with a comma (named in working hours), a Linkedid with parentheses
    (Asterisk prefixes uniqueids with `systemname` when one is set): MSet would misread
    both, so each variable gets its own SET VARIABLE."""
    exchange = await call(agi.port, headers("601234568", uniqueid="pbx(1)-1.2"))
    assert [c.split(" ")[:3] for c in exchange.commands] == [
        ["SET", "VARIABLE", name]
        for name in ("CC_ROUTE", "CC_REASON", "CC_CONTRACT", "CC_CALL", "CC_NEXT_OPEN")
    ]
    assert exchange.variables["CC_CALL"] == "pbx(1)-1.2"
    logged = await _until_logged(agi, "pbx(1)-1.2")
    assert exchange.variables["CC_CONTRACT"] == (logged.contract or "")
    assert exchange.variables["CC_ROUTE"] in ("email_only", "closed")
    if exchange.variables["CC_ROUTE"] == "email_only":
        assert logged.contract == "B/2, (Łódź)"


async def test_withheld_and_unknown_callers(agi: Running) -> None:
    withheld = await call(agi.port, headers("anonymous", uniqueid="2.1"))
    assert withheld.variables["CC_ROUTE"] == "anonymous"
    assert withheld.variables["CC_REASON"] == "withheld"
    assert withheld.variables["CC_CONTRACT"] == ""
    assert (await _until_logged(agi, "2.1")).route == "anonymous"


async def test_a_number_presented_as_restricted_is_withheld(agi: Running) -> None:
    """A carrier's P-Asserted-Identity with Privacy: id: the PBX knows the number, the caller
    withheld it (agi_callingpres 32)."""
    exchange = await call(agi.port, headers("601234567", uniqueid="2.2", callingpres=32))
    assert (exchange.variables["CC_ROUTE"], exchange.variables["CC_REASON"]) == (
        "anonymous",
        "withheld",
    )


async def test_trap_query_string_in_the_script_still_matches_the_route(agi: Running) -> None:
    exchange = await call(agi.port, headers("601234567", script="route?lang=pl", uniqueid="3.1"))
    assert "CC_ROUTE" in exchange.variables


async def _still_serving(port: int) -> None:
    exchange = await call(port, headers("anonymous", uniqueid=f"alive.{time.time_ns()}"), 5)
    assert exchange.variables["CC_ROUTE"] == "anonymous"


async def test_trap_connect_and_close_does_not_freeze_the_loop(agi: Running) -> None:
    for _ in range(20):
        _, writer = await asyncio.open_connection("127.0.0.1", agi.port)
        writer.close()
    # A half-sent header block then EOF: also just closed.
    _, writer = await asyncio.open_connection("127.0.0.1", agi.port)
    writer.write(b"agi_network: yes\nagi_network_scr")
    writer.close()
    await _still_serving(agi.port)  # the next caller is answered: nothing holds the loop


@pytest.mark.parametrize(
    "junk",
    [
        b"GET / HTTP/1.1\nHost: x\n\n",
        b"\x00\xff\xfe garbage\n\n",
        b"agi_network: yes\nagi_channel: x\n\n",  # no script
    ],
)
async def test_junk_instead_of_agi_headers_is_closed(agi: Running, junk: bytes) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", agi.port)
    writer.write(junk)
    await writer.drain()
    async with asyncio.timeout(5):
        assert await reader.read() == b""  # closed without a command
    writer.close()
    await _still_serving(agi.port)


async def test_huge_input_is_cut_off_and_others_are_served_meanwhile(agi: Running) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", agi.port)
    line = b"agi_x: " + b"a" * 1000 + b"\n"
    try:
        async with asyncio.timeout(10):
            for _ in range(2000):  # 2 MB, bounded
                writer.write(line)
                await writer.drain()
                if reader.at_eof():
                    break
    except (ConnectionError, TimeoutError):
        pass
    with contextlib.suppress(ConnectionError):  # a reset: our unread bytes were dropped
        async with asyncio.timeout(5):
            await reader.read()
    writer.close()
    await _still_serving(agi.port)


async def test_unknown_script_names_are_closed(agi: Running) -> None:
    exchange = await call(agi.port, headers("601234567", script="no-such-script"))
    assert exchange.commands == []
    await _still_serving(agi.port)


async def test_trap_plain_function_routes_work() -> None:
    seen: list[str] = []
    app = GuardedApplication()
    app.add_route("plain", lambda channel: seen.append(channel.request.script))
    server = await start_server(app, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    await call(port, headers("1", script="plain"))
    server.close()
    assert seen == ["plain"]


async def test_the_service_answers_many_concurrent_requests(agi: Running) -> None:
    results = await asyncio.gather(
        *(call(agi.port, headers("601234567", uniqueid=f"c.{i}")) for i in range(30))
    )
    assert all(r.variables["CC_CALL"] == f"c.{i}" for i, r in enumerate(results))
    for i in range(30):
        await _until_logged(agi, f"c.{i}")


async def test_the_snapshot_follows_a_ticket_logged_meanwhile(
    agi: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decisions come from memory; tickets written to the store reach them within moments."""
    tuesday = datetime(2026, 11, 24, 9, 0, tzinfo=ZoneInfo("Europe/Warsaw"))
    before, _ = await agi.service.decide("601234567", tuesday)
    assert (before.route, before.reason) == ("queue", "covered")
    with db.transaction(agi.service.sessions) as s:
        for minute in (0, 1):
            at = tuesday + timedelta(minutes=minute)
            repo.add_ticket(s, repo.NewTicket("A-1", TicketKind.ANSWER, at, None), at)

    def in_memory() -> str | None:
        memory = agi.service.snapshot
        return memory.decide("601234567", tuesday, "PL").route if memory else None

    await until(lambda: in_memory() == "limit_reached", 5, "the tickets in the routing snapshot")
    asked: list[object] = []
    monkeypatch.setattr(agi.service, "_decide", lambda *args: asked.append(args))
    after, _ = await agi.service.decide("601234567", tuesday)
    assert (after.route, after.reason) == ("limit_reached", "answers_used")
    assert asked == []  # from memory: the store was not asked


async def test_decisions_from_memory_equal_the_stores(agi: Running) -> None:
    """One decision, many doors: the snapshot decides exactly as services.route_call."""
    tuesday = datetime(2026, 11, 24, 9, 0, tzinfo=ZoneInfo("Europe/Warsaw"))
    saturday = datetime(2026, 11, 28, 9, 0, tzinfo=ZoneInfo("Europe/Warsaw"))
    for caller in ("601234567", "+48601234567", "600000000", "anonymous", "junk"):
        for now in (tuesday, saturday):
            memory = agi.service.snapshot
            assert memory is not None
            with agi.service.sessions() as s:
                stored = route_call(s, caller, now, "PL")
            from_memory = memory.decide(caller, now, "PL")
            assert (from_memory.caller, from_memory.route, from_memory.reason,
                    from_memory.contract, from_memory.contracts, from_memory.next_open) == (
                stored.caller, stored.route, stored.reason, stored.contract, stored.contracts,
                stored.next_open)  # fmt: skip
    # The number exactly as a contract names it, but withheld: still withheld.
    memory = agi.service.snapshot
    assert memory is not None
    withheld = memory.decide("+48601234567", tuesday, "PL", presented=False)
    assert (withheld.route, withheld.caller.kind) == ("anonymous", "withheld")


@pytest.mark.postgres
async def test_a_slow_store_gets_fail_open_within_the_deadline(postgres_url: str) -> None:
    """A lock holds every query: once the in-memory copy cannot be refreshed for longer
    than allowed, the service asks the store, and the caller still gets an answer when the
    deadline passes, `fail_open` (the store stays locked until the answer is in: only the
    deadline can give it); the call is logged once the store is back."""
    running, server = await _start(postgres_url, deadline=0.5)
    plain = make_url(postgres_url).set(drivername="postgresql").render_as_string(False)
    locker = await psycopg.AsyncConnection.connect(plain)
    await locker.execute("BEGIN")
    await locker.execute("LOCK TABLE contracts, calls, routing_changes IN ACCESS EXCLUSIVE MODE")
    await until(
        lambda: running.service._trusted() is None,
        10,
        "the routing snapshot stale (not refreshed behind the lock)",
    )
    try:
        # Generous: the answer arrives after the deadline (0.5 s) and far before Asterisk's
        # own AGI timeout (5 s). How long it takes is bench/agi_latency.py --slow-store.
        exchange = await call(running.port, headers("601234567", uniqueid="slow.1"), timeout=10)
        assert exchange.variables["CC_REASON"] == "fail_open"
        assert exchange.variables["CC_ROUTE"] in ("queue", "closed")
    finally:
        await locker.execute("ROLLBACK")
        await locker.close()
    logged = await _until_logged(running, "slow.1")
    assert logged.reason == "fail_open"
    await running.close(server)


async def test_the_call_log_process_writes_and_is_replaced_when_it_dies(database_url: str) -> None:
    """As `callcenter agi` runs: a process of its own writes the call log. Killed, it is
    replaced, and the calls of the batch it failed are written by the next one."""
    running, server = await _start(database_url, log_process=True)
    try:
        assert running.service.log_process is not None
        await call(running.port, headers("601234567", uniqueid="7.1"))
        assert (await _until_logged(running, "7.1")).caller_e164 == "+48601234567"
        [worker] = running.service.log_process.pool._processes.values()
        worker.kill()
        worker.join(10)
        for i in range(2, 5):
            await call(running.port, headers("601234567", uniqueid=f"7.{i}"))
        for i in range(2, 5):
            await _until_logged(running, f"7.{i}")
    finally:
        await running.close(server)
