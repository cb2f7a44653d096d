"""Screen pops: publish/subscribe by operator endpoint, in-process and (PostgreSQL) between
processes.

A pop is a JSON-able dict with at least `kind`, `endpoint` and `linkedid`. Subscribers ask for
one endpoint's pops (the operator whose phone rings), or for all of them (a manager's screen),
and may ask for other keys' messages besides (`send_to`: the live wallboard's, in this
process only).
With PostgreSQL, `PgPopBridge` sends every pop through `NOTIFY callcenter_pops` and delivers
what `LISTEN` receives to the local hub, so web workers and listeners in other processes see
the same pops; without it, the hub delivers locally.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

log = logging.getLogger(__name__)

CHANNEL = "callcenter_pops"
ALL = "*"
_QUEUE_LIMIT = 1000


class PopHub:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}
        self.bridge: PgPopBridge | None = None

    def publish(self, pop: dict[str, Any]) -> None:
        """Send a pop to its endpoint's subscribers (through PostgreSQL when bridged)."""
        if self.bridge is not None and self.bridge.connected:
            self.bridge.send(pop)
        else:
            self.deliver(pop)

    def wanted(self, endpoint: str) -> bool:
        """Would a pop for `endpoint` reach anyone? (Always, when bridged: other processes
        may be watching.)"""
        if self.bridge is not None:
            return True
        return bool(self._subscribers.get(endpoint) or self._subscribers.get(ALL))

    def watched(self) -> bool:
        """Is any screen open (or, bridged, possibly open in another process)?"""
        return self.bridge is not None or any(self._subscribers.values())

    def deliver(self, pop: dict[str, Any]) -> None:
        endpoint = str(pop.get("endpoint", ""))
        for key in (endpoint, ALL):
            self._put(key, pop)

    def watching(self, key: str) -> bool:
        """Does anyone in this process subscribe to `key` itself?"""
        return bool(self._subscribers.get(key))

    def send_to(self, key: str, message: dict[str, Any]) -> None:
        """A message for the subscribers of `key` alone, in this process (not a pop: the
        subscribers of every pop, `ALL`, do not get it). The wallboard's go so."""
        self._put(key, message)

    def _put(self, key: str, message: dict[str, Any]) -> None:
        for queue in self._subscribers.get(key, ()):
            if queue.qsize() >= _QUEUE_LIMIT:
                log.warning("pop dropped: subscriber backlog endpoint=%s", key)
                continue
            queue.put_nowait(message)

    @contextlib.asynccontextmanager
    async def subscribe(
        self, endpoint: str, *more: str
    ) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        """A queue receiving `endpoint`'s pops (or every pop, with `ALL`), and the messages
        of the keys in `more`, while open."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        keys = (endpoint, *more)
        for key in keys:
            self._subscribers.setdefault(key, set()).add(queue)
        try:
            yield queue
        finally:
            for key in keys:
                self._subscribers[key].discard(queue)


class PgPopBridge:
    """LISTEN/NOTIFY between processes sharing one PostgreSQL database."""

    def __init__(self, conninfo: str, hub: PopHub) -> None:
        self.conninfo = conninfo
        self.hub = hub
        self.connected = False
        self._send_queue: asyncio.Queue[str] = asyncio.Queue()

    def send(self, pop: dict[str, Any]) -> None:
        self._send_queue.put_nowait(json.dumps(pop, ensure_ascii=False, default=str))

    async def run(self, stop: asyncio.Event) -> None:
        """Keep a LISTEN connection (reconnecting with backoff) until `stop` is set."""
        import psycopg  # noqa: PLC0415  (only with PostgreSQL)

        delay = 0.5
        while not stop.is_set():
            try:
                async with (
                    await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True) as listen,
                    await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True) as notify,
                ):
                    await listen.execute(f"LISTEN {CHANNEL}")
                    self.connected = True
                    delay = 0.5
                    log.info("pops bridged through PostgreSQL LISTEN/NOTIFY")
                    await self._pump(listen, notify, stop)
            except (OSError, psycopg.Error) as exc:
                log.warning("pop bridge down error=%r; retrying in %.1fs", exc, delay)
            finally:
                self.connected = False
                self._flush_locally()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, 10.0)

    async def _pump(self, listen: Any, notify: Any, stop: asyncio.Event) -> None:
        async def receive() -> None:
            async for note in listen.notifies():
                try:
                    self.hub.deliver(json.loads(note.payload))
                except ValueError:
                    log.warning("pop bridge: bad payload skipped")

        async def send() -> None:
            while True:
                payload = await self._send_queue.get()
                await notify.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))

        tasks = [
            asyncio.create_task(receive()),
            asyncio.create_task(send()),
            asyncio.create_task(stop.wait()),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # re-raise a connection error
        finally:
            for task in tasks:
                task.cancel()

    def _flush_locally(self) -> None:
        while not self._send_queue.empty():
            self.hub.deliver(json.loads(self._send_queue.get_nowait()))
