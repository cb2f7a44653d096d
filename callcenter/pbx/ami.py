"""The AMI connection: login, watchdog, reconnect, actions, and one ordered stream of events.

Theory of operation
-------------------
`AmiClient.run()` loops until `close()`: connect (bounded by `connect_timeout`), log in, then
serve the session until the connection ends, the Ping watchdog finds it dead, or we close;
then wait a backoff with jitter and start again. A refused login raises `AmiAuthError` inside
the loop and is logged as an error each time (at most once per backoff, so at a capped rate);
after `max_login_attempts` refusals in a row `run()` raises it, or, with None (how `serve`
runs it: callers come first, the process and its routing service stay up), goes on retrying
until the secret is fixed on either side. Connection failures are retried as long
as the client runs, each one logged.

One reader task per session turns bytes into frames with the pure `FrameParser`. A frame that
carries the ActionID of an action we are waiting for goes to that action (its response, and for
list actions every event up to ``EventList: Complete``), not to the handler; every other event
(also one with our ActionID after its action has ended, e.g. OriginateResponse), stamped with
its receive time, goes into ONE queue, in arrival order, to ONE consumer task that awaits the
handler; an exception there is logged and the next event handled. Connection changes travel
through the same queue as `ConnectionEvent`s, so a gap is seen in order with the events around
it, and `on_login()` (the resync) runs in the consumer after the "connected" event: no event is
handled concurrently with the resync.

Why plain asyncio streams and not panoramisk
---------------------------------------------
panoramisk 1.4's `Manager`/`AMIProtocol` has these traps: an exception in a plain callback
escapes `data_received`, dropping the connection and the rest of that chunk; async callbacks
are scheduled with `ensure_future`, so they run unordered; each chunk is decoded with 'ignore',
so a UTF-8 letter split across two reads vanishes; a refused login is only stored in
`authenticated`, Asterisk hangs up and panoramisk logs in again, forever, with no error; `ping`
sends Ping and never looks at the reply. Guarding them means overriding `data_received`,
`handle_message`, `dispatch`, `connection_made`, `login`, `ping` and `connection_lost`: all of
it. What is left is a stream, a parser and a few tasks, which is what this module is, with a
timeout on every wait. Each trap has a test in tests/integration/test_ami_connection.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from callcenter.pbx.frames import (
    MAX_FRAME_BYTES,
    ActionReply,
    ActionResult,
    Frame,
    FrameParser,
    encode_action,
)
from callcenter.pbx.recording import RecordingWriter

if TYPE_CHECKING:
    from callcenter.config import Settings

log = logging.getLogger(__name__)

READ_SIZE = 64 * 1024
BACKLOG_WARNING = 10_000  # queued events; logged again at every further 10k


class AmiError(Exception):
    """Something went wrong talking to the AMI."""


class AmiAuthError(AmiError):
    """The AMI refused our username and secret."""


class AmiConnectionError(AmiError):
    """Not logged in, or the connection went away before the answer came."""


class AmiTimeoutError(AmiError, TimeoutError):
    """No complete answer to an action in time."""


class ConnectionState(StrEnum):
    CONNECTED = "connected"  # logged in
    DISCONNECTED = "disconnected"  # a logged-in session ended


@dataclass(frozen=True)
class ConnectionEvent:
    state: ConnectionState
    at: datetime
    detail: str = ""


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff: attempt n waits min(maximum, initial * factor**n), minus up to
    `jitter` of it at random (so many listeners do not reconnect in step)."""

    initial: float = 0.5
    maximum: float = 30.0
    factor: float = 2.0
    jitter: float = 0.5

    def delay(self, attempt: int, rand: float) -> float:
        base = min(self.maximum, self.initial * self.factor ** min(attempt, 64))
        return base * (1.0 - self.jitter * rand)


Handler = Callable[[Frame], Awaitable[None]]
LoginHook = Callable[[], Awaitable[None]]
StateHook = Callable[[ConnectionEvent], Awaitable[None]]
Fields = Mapping[str, str | Sequence[str]]


class AmiClient:
    """A self-healing AMI connection. Run `run()` as a task; `await close()` to stop."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        *,
        handler: Handler,
        on_login: LoginHook | None = None,
        on_state: StateHook | None = None,
        record: Path | str | None = None,
        events: str = "on",
        ping_interval: float = 20.0,
        ping_timeout: float = 5.0,
        action_timeout: float = 10.0,
        connect_timeout: float = 5.0,
        login_timeout: float = 5.0,
        max_login_attempts: int | None = 5,
        backoff: Backoff | None = None,
        max_frame_bytes: int = MAX_FRAME_BYTES,
    ) -> None:
        self.host, self.port, self.username = host, port, username
        self._secret = secret
        self.handler, self.on_login, self.on_state = handler, on_login, on_state
        self.record = Path(record) if record is not None else None
        self.events = events
        self.ping_interval, self.ping_timeout = ping_interval, ping_timeout
        self.action_timeout, self.connect_timeout = action_timeout, connect_timeout
        self.login_timeout = login_timeout
        self.max_login_attempts = max_login_attempts
        self.backoff = backoff or Backoff()
        self.max_frame_bytes = max_frame_bytes
        self.counters: Counter[str] = Counter()  # logins, disconnects, malformed, ...
        self._queue: asyncio.Queue[Frame | ConnectionEvent | None] = asyncio.Queue()
        self._backlog_mark = BACKLOG_WARNING
        self._pending: dict[str, tuple[ActionReply, asyncio.Future[ActionResult]]] = {}
        self._ids = itertools.count(1)
        self._id_prefix = f"cc-{uuid.uuid4().hex[:8]}-"
        self._writer: asyncio.StreamWriter | None = None
        self._logged_in = asyncio.Event()
        self._closing = asyncio.Event()
        self._done = asyncio.Event()
        self._own_tasks: set[asyncio.Task[Any] | None] = set()
        self._recorder: RecordingWriter | None = None

    @classmethod
    def from_settings(cls, settings: Settings, *, handler: Handler, **options: Any) -> AmiClient:
        """A client for the AMI in `settings`; `options` are the keyword arguments above."""
        return cls(
            settings.ami_host,
            settings.ami_port,
            settings.ami_user,
            settings.ami_secret,
            handler=handler,
            **options,
        )

    def __repr__(self) -> str:  # never the secret
        return f"AmiClient({self.username}@{self.host}:{self.port})"

    @property
    def connected(self) -> bool:
        """Logged in right now."""
        return self._logged_in.is_set()

    async def wait_connected(self, timeout: float) -> None:
        """Wait until logged in; AmiTimeoutError after `timeout` seconds."""
        try:
            await asyncio.wait_for(self._logged_in.wait(), timeout)
        except TimeoutError as exc:
            raise AmiTimeoutError(f"not logged in to the AMI after {timeout}s") from exc

    async def run(self) -> None:
        """Connect, log in, serve, reconnect, until `close()`. Raises AmiAuthError after
        `max_login_attempts` refused logins in a row."""
        if self._own_tasks:
            raise RuntimeError("AmiClient.run() is already running")
        self._done.clear()
        self._recorder = RecordingWriter(self.record) if self.record else None
        consumer = asyncio.create_task(self._consume(), name="ami-consumer")
        self._own_tasks = {asyncio.current_task(), consumer}
        attempt = refusals = 0
        try:
            while not self._closing.is_set():
                try:
                    await self._session()
                    attempt = refusals = 0  # a session that logged in and then ended
                except AmiAuthError as exc:
                    refusals += 1
                    self.counters["login_refused"] += 1
                    log.error(
                        "ami login refused host=%s port=%d user=%s attempt=%d/%s detail=%s%s",
                        self.host, self.port, self.username, refusals,
                        self.max_login_attempts or "-", exc,
                        "" if self.max_login_attempts else "; retrying (check the AMI secret)",
                    )  # fmt: skip
                    if self.max_login_attempts and refusals >= self.max_login_attempts:
                        raise AmiAuthError(
                            f"AMI login refused {refusals} times for user {self.username!r} "
                            f"at {self.host}:{self.port}: {exc}"
                        ) from exc
                except (OSError, AmiError) as exc:  # refused, unreachable, timed out, lost
                    log.warning(
                        "ami connect failed host=%s port=%d attempt=%d error=%s",
                        self.host, self.port, attempt + 1, exc or type(exc).__name__,
                    )  # fmt: skip
                if self._closing.is_set():
                    break
                delay = self.backoff.delay(attempt, random.random())
                attempt += 1
                log.info("ami reconnect delay=%.2fs attempt=%d", delay, attempt + 1)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), delay)
        finally:
            await self._stop_consumer(consumer)
            if self._recorder is not None:
                self._recorder.close()
            self._own_tasks = set()
            self._done.set()

    async def close(self, timeout: float = 5.0) -> None:
        """Log off, close the connection, stop `run()` (waits up to `timeout` for it, unless
        called from the handler or a hook)."""
        self._closing.set()
        if self._own_tasks and asyncio.current_task() not in self._own_tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._done.wait(), timeout)

    async def _session(self) -> None:
        """One connection: returns after a logged-in session ends; raises before login."""
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), self.connect_timeout
        )
        parser = FrameParser(self.max_frame_bytes)
        self._writer = writer
        read_task = asyncio.create_task(self._read(reader, parser), name="ami-reader")
        tasks: list[asyncio.Task[Any]] = [read_task]
        reason = "closed"
        try:
            result = await self._action(
                {"Action": "Login", "Username": self.username, "Secret": self._secret,
                 "Events": self.events},
                self.login_timeout,
            )  # fmt: skip
            if not result.ok:
                raise AmiAuthError(result.response.get("Message") or "login refused")
            self.counters["logins"] += 1
            log.info(
                "ami logged in host=%s port=%d user=%s greeting=%r login=%d",
                self.host, self.port, self.username, parser.greeting, self.counters["logins"],
            )  # fmt: skip
            self._logged_in.set()
            self._enqueue(ConnectionEvent(ConnectionState.CONNECTED, datetime.now(UTC)))
            watchdog = asyncio.create_task(self._watchdog(), name="ami-watchdog")
            closing = asyncio.create_task(self._closing.wait())
            tasks += [watchdog, closing]
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            if watchdog.done():
                reason = watchdog.result()
            elif read_task.done():
                reason = "connection lost"
        finally:
            was_logged_in = self._logged_in.is_set()
            self._logged_in.clear()
            self._writer = None
            if self._closing.is_set() and was_logged_in:
                with contextlib.suppress(OSError, RuntimeError):
                    writer.write(encode_action({"Action": "Logoff"}))
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), 1.0)
            self._fail_pending(f"connection {reason}")
            if was_logged_in:
                self.counters["disconnects"] += 1
                log.warning("ami disconnected host=%s port=%d reason=%s", self.host, self.port,
                            reason)  # fmt: skip
                self._enqueue(
                    ConnectionEvent(ConnectionState.DISCONNECTED, datetime.now(UTC), reason)
                )

    async def _watchdog(self) -> str:
        """Ping every `ping_interval`; return why the connection is presumed dead."""
        while True:
            await asyncio.sleep(self.ping_interval)
            try:
                result = await self._action({"Action": "Ping"}, self.ping_timeout)
            except AmiError as exc:
                log.warning("ami ping failed, connection presumed dead error=%s", exc)
                return f"ping failed: {exc}"
            if not (result.ok and (result.response.get("Ping") or "").lower() == "pong"):
                log.warning("ami ping answered without Pong %s", result.response.describe())
                return "ping answered without Pong"

    async def _read(self, reader: asyncio.StreamReader, parser: FrameParser) -> None:
        try:
            while data := await reader.read(READ_SIZE):
                at = datetime.now(UTC)
                for frame in parser.feed(data, at):
                    try:
                        self._route(frame, at)
                    except Exception:
                        log.exception("ami frame routing failed %s", frame.describe())
                for count in parser.take_skipped():
                    self.counters["skipped_bytes"] += count
                    log.warning("ami stream resynchronised after skipping bytes=%d", count)
                if self._recorder is not None:
                    self._recorder.flush()
            log.info("ami connection closed by the server host=%s", self.host)
        except OSError as exc:
            log.warning("ami read failed host=%s error=%s", self.host, exc)
        finally:
            self._fail_pending("connection lost")

    def _route(self, frame: Frame, at: datetime) -> None:
        if self._recorder is not None:
            self._recorder.write(frame, at)
        if frame.truncated:
            self.counters["oversized"] += 1
            log.warning("ami frame oversized, dropped max_bytes=%d %s", self.max_frame_bytes,
                        frame.describe())  # fmt: skip
            return
        if frame.invalid_utf8:
            self.counters["invalid_utf8"] += 1
            log.warning("ami frame with invalid UTF-8, replaced %s", frame.describe())
        if frame.malformed:
            self.counters["malformed"] += 1
            log.warning(
                "ami frame malformed lines=%d first=%r kept_pairs=%d %s", len(frame.malformed),
                frame.malformed[0][:80], len(frame.pairs), frame.describe(),
            )  # fmt: skip
        if not frame.pairs:
            return
        action_id = frame.action_id
        if action_id is not None and (pending := self._pending.get(action_id)) is not None:
            reply, future = pending
            if (result := reply.add(frame)) is not None and not future.done():
                future.set_result(result)
        elif frame.event is not None:
            self._enqueue(frame)
        else:
            log.info("ami frame ignored (no waiting action, not an event) %s", frame.describe())

    def _fail_pending(self, reason: str) -> None:
        for _, future in self._pending.values():
            if not future.done():
                future.set_exception(AmiConnectionError(reason))

    def _enqueue(self, item: Frame | ConnectionEvent) -> None:
        self._queue.put_nowait(item)
        if self._queue.qsize() >= self._backlog_mark:
            log.warning("ami event backlog size=%d", self._queue.qsize())
            self._backlog_mark += BACKLOG_WARNING

    async def _consume(self) -> None:
        while (item := await self._queue.get()) is not None:
            if self._queue.qsize() < BACKLOG_WARNING:
                self._backlog_mark = BACKLOG_WARNING
            if isinstance(item, ConnectionEvent):
                await self._deliver_state(item)
                continue
            try:
                await self.handler(item)
            except Exception:
                log.exception(
                    "ami handler failed event=%s uniqueid=%s linkedid=%s",
                    item.event, item.get("Uniqueid"), item.get("Linkedid"),
                )  # fmt: skip

    async def _deliver_state(self, item: ConnectionEvent) -> None:
        if self.on_state is not None:
            try:
                await self.on_state(item)
            except Exception:
                log.exception("ami on_state failed state=%s", item.state)
        if item.state is ConnectionState.CONNECTED and self.on_login is not None:
            try:
                await self.on_login()
            except Exception:
                log.exception("ami on_login failed")

    async def _stop_consumer(self, consumer: asyncio.Task[None], timeout: float = 5.0) -> None:
        """Let the consumer finish what is queued (up to `timeout`), then stop it."""
        self._queue.put_nowait(None)
        try:
            await asyncio.wait_for(consumer, timeout)
        except TimeoutError:
            log.warning("ami consumer stopped with events left=%d", self._queue.qsize())

    async def action(self, fields: Fields, timeout: float | None = None) -> ActionResult:
        """Send an action and wait for its answer (a list action: up to ``EventList:
        Complete``). We add the ActionID. Raises AmiConnectionError when not logged in or
        when the connection goes away, AmiTimeoutError after `timeout` (action_timeout)."""
        if not self._logged_in.is_set():
            raise AmiConnectionError(f"not logged in to the AMI at {self.host}:{self.port}")
        return await self._action(fields, self.action_timeout if timeout is None else timeout)

    async def _action(self, fields: Fields, timeout: float) -> ActionResult:
        if any(key.lower() == "actionid" for key in fields):
            raise ValueError("the ActionID is set by AmiClient")
        writer = self._writer
        if writer is None:
            raise AmiConnectionError(f"not connected to the AMI at {self.host}:{self.port}")
        action_id = f"{self._id_prefix}{next(self._ids)}"
        data = encode_action({**fields, "ActionID": action_id})
        name = fields.get("Action", "?")
        future: asyncio.Future[ActionResult] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = (ActionReply(), future)
        try:
            async with asyncio.timeout(timeout):
                writer.write(data)
                await writer.drain()
                return await future
        except TimeoutError as exc:
            raise AmiTimeoutError(
                f"no complete answer to action={name} action_id={action_id} in {timeout}s"
            ) from exc
        except (OSError, RuntimeError) as exc:
            raise AmiConnectionError(f"action={name} not sent: {exc}") from exc
        finally:
            del self._pending[action_id]
