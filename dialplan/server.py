"""A FastAGI server on panoramisk's Application, with its known traps guarded.

panoramisk 1.4 (the last release) has three traps this module closes, each with a test:
- a client that connects and closes freezes the event loop: its header loop spins on EOF.
  Here headers are read with `readuntil`, a size limit and a timeout; EOF ends the request.
- `agi://host/route?x=1` matches no route: here the query string is dropped for matching.
- `add_route` with a plain function breaks on Python 3.11+ (`asyncio.coroutine` is gone):
  here plain functions are wrapped.
Commands are sent through `AgiChannel.send`, which also treats EOF as a hang-up instead of
failing to parse an empty line, reads a multi-line `520-` usage answer to its closing `520 `
line (bounded), and returns `200 result=-1` as a failed result (`AgiResult.ok`). A request
without `agi_network_script` is routed by the path of its `agi_request`. Each of these is
tested in tests/integration/test_fastagi_hostile_sqlite.py.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from panoramisk.fast_agi import Application

from dialplan.protocol import (
    MAX_HEADER_BYTES,
    MAX_USAGE_LINES,
    USAGE_END,
    USAGE_START,
    AgiRequest,
    AgiResult,
    ProtocolError,
    parse_headers,
    parse_result,
    set_variable,
    set_variables,
    usage_result,
)

log = logging.getLogger(__name__)

HEADER_TIMEOUT = 5.0
COMMAND_TIMEOUT = 5.0


class HangupError(ConnectionError):
    """Asterisk closed the AGI connection (the caller hung up, or the channel went away)."""


class AgiChannel:
    """One FastAGI conversation: the request and a way to send commands."""

    def __init__(
        self, request: AgiRequest, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.request = request
        self._reader = reader
        self._writer = writer
        self.hung_up = False  # Asterisk said HANGUP: the caller is gone

    async def send(self, command: bytes) -> AgiResult:
        """One command and its answer. (Asterisk reads one command at a time: commands
        written together, pipelined, leave it waiting; tested against a real Asterisk.)"""
        self._writer.write(command)
        await self._writer.drain()
        while True:
            line = await self._line(command)
            if line.startswith(b"HANGUP"):
                self.hung_up = True
                continue  # async hang-up notice; the answer to our command follows
            if line.startswith(USAGE_START):
                return await self._usage(command, line)
            result = parse_result(line)
            if result.code != 100:  # 100 Trying: the real answer follows
                return result

    async def set_variables(self, values: Mapping[str, str], call: str) -> bool:
        """Set these channel variables (one MSet when it can); True if Asterisk took them.

        A refused command (`200 result=-1`, `510`, a `520` usage answer) is logged; a refused
        MSet is tried again as one SET VARIABLE per variable, so the caller still gets the
        decision rather than the dialplan's fail-open (not after a hang-up: no one to tell)."""
        commands = set_variables(values)
        if await self._done(commands[0], call) or len(commands) > 1 or self.hung_up:
            ok = True
            for command in commands[1:]:
                ok = await self._done(command, call) and ok
            return ok
        ok = True
        for name, value in values.items():
            ok = await self._done(set_variable(name, value), call) and ok
        return ok

    async def _done(self, command: bytes, call: str) -> bool:
        result = await self.send(command)
        if not result.ok:
            log.error(
                "agi refused call=%s command=%r answer=%r",
                call, command.decode(errors="replace").strip(), result.text,
            )  # fmt: skip
        return result.ok

    async def _line(self, command: bytes) -> bytes:
        try:
            line = await asyncio.wait_for(self._reader.readline(), COMMAND_TIMEOUT)
        except (ConnectionError, TimeoutError) as exc:
            raise HangupError(f"no answer to {command[:40]!r}: {exc!r}") from exc
        except ValueError as exc:  # a line over the stream's limit
            raise ProtocolError(f"answer to {command[:40]!r} too long: {exc}") from None
        if not line:
            raise HangupError(f"connection closed before the answer to {command[:40]!r}")
        return line

    async def _usage(self, command: bytes, first: bytes) -> AgiResult:
        """A `520-` answer: read it to its closing `520 ` line (bounded)."""
        rest: list[bytes] = []
        while len(rest) < MAX_USAGE_LINES:
            line = await self._line(command)
            rest.append(line)
            if line.startswith(USAGE_END):
                return usage_result(first, rest)
        raise ProtocolError(f"usage answer to {command[:40]!r} longer than {MAX_USAGE_LINES} lines")


Handler = Callable[[AgiChannel], Awaitable[None]]


class GuardedApplication(Application):  # type: ignore[misc]
    """panoramisk's FastAGI Application with its traps closed (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__(loop=asyncio.get_running_loop())
        self.active: set[asyncio.Task[Any]] = set()

    def add_route(self, path: str, endpoint: Callable[[AgiChannel], Any]) -> None:
        if inspect.iscoroutinefunction(endpoint):
            super().add_route(path, endpoint)
            return

        async def wrapped(channel: AgiChannel) -> None:
            endpoint(channel)

        super().add_route(path, wrapped)

    async def handler(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        task = asyncio.current_task()
        if task is not None:
            self.active.add(task)
        try:
            await self._serve(reader, writer, peer)
        except HangupError as exc:
            log.info("agi hangup peer=%s detail=%s", peer, exc)
        except ProtocolError as exc:
            log.warning("agi protocol error peer=%s error=%s", peer, exc)
        except Exception:
            log.exception("agi handler failed peer=%s", peer)
        finally:
            writer.close()
            if task is not None:
                self.active.discard(task)

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: object
    ) -> None:
        try:
            block = await asyncio.wait_for(reader.readuntil(b"\n\n"), HEADER_TIMEOUT)
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise ProtocolError(
                    f"connection closed inside the headers ({len(exc.partial)} bytes)"
                ) from None
            log.info("agi connect-and-close peer=%s", peer)
            return
        except asyncio.LimitOverrunError:
            raise ProtocolError(f"headers longer than {MAX_HEADER_BYTES} bytes") from None
        except TimeoutError:
            raise ProtocolError(f"no complete headers within {HEADER_TIMEOUT} s") from None
        request = parse_headers(block)
        route = self._route.get(request.script)
        if route is None:
            log.error("agi no route script=%r peer=%s", request.script, peer)
            return
        await route(AgiChannel(request, reader, writer))


async def start_server(app: GuardedApplication, host: str, port: int) -> asyncio.Server:
    """Listen for Asterisk; the stream limit bounds a header block's size."""
    return await asyncio.start_server(app.handler, host, port, limit=MAX_HEADER_BYTES)
