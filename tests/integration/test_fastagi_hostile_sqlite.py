"""The FastAGI routing service over real loopback TCP on a real SQLite file, against an
Asterisk side that answers as a real one may: a request with `agi_request` and no
`agi_network_script`, `200 result=-1` (the command failed), a multi-line `520-` usage answer.

(panoramisk's guarded traps keep their tests in test_fastagi_service.py.)"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
import pytest_asyncio

from callcenter.store import db, migrate
from callcenter.store import repositories as repo
from dialplan.routing import RoutingService
from dialplan.server import GuardedApplication, start_server
from tests.support.agi_client import headers

WAIT = 10.0
USAGE = (
    b"520-Invalid command syntax.  Proper usage follows:\n"
    b"Usage: EXEC <application> <options>\n"
    b"     Executes application with given options.\n"
    b"520 End of proper usage.\n"
)


@dataclass
class Asterisk:
    """Asterisk's side: sends a request block, answers each command from `answers` (then
    `200 result=1`), records the commands, returns when the service closes."""

    answers: list[bytes] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)

    async def call(self, port: int, block: bytes) -> list[str]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(block)
            await writer.drain()
            async with asyncio.timeout(WAIT):
                while line := await reader.readline():
                    self.commands.append(line.decode().rstrip("\n"))
                    writer.write(self.answers.pop(0) if self.answers else b"200 result=1\n")
                    await writer.drain()
        finally:
            writer.close()
        return self.commands


@dataclass
class Service:
    service: RoutingService
    port: int


@pytest_asyncio.fixture
async def agi(sqlite_url: str) -> AsyncIterator[Service]:
    engine = db.make_engine(sqlite_url)
    migrate.upgrade(engine)
    service = RoutingService(db.sessions(engine))
    app = GuardedApplication()
    app.add_route("route", service.handle)
    server = await start_server(app, "127.0.0.1", 0)
    try:
        yield Service(service, server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()
        await service.drain()
        engine.dispose()


async def _logged(service: RoutingService, linkedid: str) -> repo.CallDecision:
    await service.drain()  # writes what is pending
    with service.sessions() as s:
        found = repo.call_by_linkedid(s, linkedid)
    assert found is not None, linkedid
    return found


def _variables(commands: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for command in commands:
        if command.startswith("SET VARIABLE "):
            name, _, value = command.removeprefix("SET VARIABLE ").partition(" ")
            found[name] = value.strip('"')
        elif command.startswith('EXEC MSet "'):
            for pair in command.removeprefix('EXEC MSet "').removesuffix('"').split(","):
                name, _, value = pair.partition("=")
                found[name] = value
    return found


async def test_a_request_with_agi_request_alone_is_answered(agi: Service) -> None:
    block = (
        b"".join(
            line + b"\n"
            for line in headers("anonymous", uniqueid="r.1").splitlines()
            if line and not line.startswith(b"agi_network_script:")
        )
        + b"\n"
    )
    assert b"agi_network_script" not in block and b"agi_request: agi://" in block
    commands = await Asterisk().call(agi.port, block)
    assert _variables(commands)["CC_ROUTE"] == "anonymous"
    assert _variables(commands)["CC_CALL"] == "r.1"
    assert (await _logged(agi.service, "r.1")).route == "anonymous"


@pytest.mark.parametrize("failed", [b"200 result=-1\n", b"200 result=-2\n", USAGE])
async def test_a_refused_mset_is_logged_and_the_variables_are_set_one_by_one(
    agi: Service, failed: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dialplan")
    asterisk = Asterisk(answers=[failed])
    commands = await asterisk.call(agi.port, headers("anonymous", uniqueid="r.2"))
    assert commands[0].startswith("EXEC MSet ")
    assert all(c.startswith("SET VARIABLE ") for c in commands[1:])
    set_one_by_one = _variables(commands[1:])
    assert set_one_by_one["CC_ROUTE"] == "anonymous" and set_one_by_one["CC_CALL"] == "r.2"
    refused = [r for r in caplog.records if "agi refused" in r.getMessage()]
    assert len(refused) == 1 and refused[0].levelno == logging.ERROR
    assert failed.splitlines()[0].decode() in refused[0].getMessage()
    assert "protocol error" not in caplog.text
    assert (await _logged(agi.service, "r.2")).route == "anonymous"


async def test_every_failed_command_is_logged_and_the_call_still_logged(
    agi: Service, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dialplan")
    asterisk = Asterisk(answers=[b"200 result=-1\n", USAGE, b"200 result=-1\n"])
    commands = await asterisk.call(agi.port, headers("anonymous", uniqueid="r.3"))
    assert len(commands) == 1 + 5  # the MSet, then one SET VARIABLE per variable
    refused = [r for r in caplog.records if "agi refused" in r.getMessage()]
    assert len(refused) == 3
    assert "protocol error" not in caplog.text
    assert (await _logged(agi.service, "r.3")).linkedid == "r.3"


async def test_a_usage_answer_that_never_ends_is_a_bounded_protocol_error(
    agi: Service, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dialplan")
    endless = b"520-Invalid command syntax.\n" + b"Usage: again\n" * 500
    await Asterisk(answers=[endless]).call(agi.port, headers("anonymous", uniqueid="r.4"))
    assert "longer than 100 lines" in caplog.text
    assert (await _logged(agi.service, "r.4")).linkedid == "r.4"  # the call happened


async def test_after_a_hang_up_a_refused_mset_is_not_sent_again(
    agi: Service, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dialplan")
    asterisk = Asterisk(answers=[b"HANGUP\n200 result=-1\n"])
    commands = await asterisk.call(agi.port, headers("anonymous", uniqueid="r.5"))
    assert len(commands) == 1 and commands[0].startswith("EXEC MSet ")
    assert "agi refused call=r.5" in caplog.text
    assert (await _logged(agi.service, "r.5")).linkedid == "r.5"
