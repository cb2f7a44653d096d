"""The real AMI listener (callcenter.pbx.listener.run_listener) in a background thread with
its own event loop, connected to Asterisk through a TCP proxy the test controls: it can cut
the connection for a while, or slip malformed frames into the stream. Pops are collected (the
wallboard's messages apart), and the resyncs done after each login are counted, so a test
waits for the listener's facts (logged in, resynced) instead of sleeping."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Coroutine
from dataclasses import replace
from typing import Any, TypeVar

from callcenter.config import Settings
from callcenter.pbx.ami import Backoff
from callcenter.pbx.listener import Listener, run_listener
from callcenter.pbx.pops import ALL, PopHub
from callcenter.pbx.wallboard import WALLBOARD
from tests.support.waits import wait_for

T = TypeVar("T")


class AmiProxy:
    """127.0.0.1:<port> -> Asterisk's AMI. Runs in the listener thread's loop."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.down_until = 0.0
        self.clients: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if time.monotonic() < self.down_until:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self.clients.add(writer)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.clients.discard(writer)

    def cut(self, seconds: float) -> None:
        """Drop the listener's TCP stream now and refuse it for `seconds`."""
        self.down_until = time.monotonic() + seconds
        for writer in list(self.clients):
            writer.transport.abort()

    def inject(self, data: bytes) -> None:
        for writer in list(self.clients):
            writer.write(data)


class ThreadedListener:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pops: list[dict[str, Any]] = []
        self.wallboard: list[dict[str, Any]] = []  # the live wallboard's messages
        self.loop = asyncio.new_event_loop()
        self.proxy = AmiProxy((settings.ami_host, settings.ami_port))
        self.listener: Listener | None = None
        self.live: Listener | None = None  # the running listener (run_listener's on_ready)
        self.error: BaseException | None = None
        self.resyncs = 0  # resyncs finished (one after every login to the AMI)
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="listener", daemon=True)

    def start(self) -> ThreadedListener:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError(f"listener did not start: {self.error!r}")
        return self

    def _run(self) -> None:
        try:
            self.loop.run_until_complete(self._main())
        except BaseException as exc:  # reported to the test through self.error
            self.error = exc
            self._ready.set()

    async def _main(self) -> None:
        await self.proxy.start()
        self.stop_event = asyncio.Event()
        hub = PopHub()
        settings = replace(self.settings, ami_host="127.0.0.1", ami_port=self.proxy.port)
        async with hub.subscribe(ALL) as pops, hub.subscribe(WALLBOARD) as wall:

            async def collect(queue: asyncio.Queue[dict[str, Any]], into: list[Any]) -> None:
                while True:
                    into.append(await queue.get())

            collectors = [
                asyncio.create_task(collect(pops, self.pops)),
                asyncio.create_task(collect(wall, self.wallboard)),
            ]
            self._ready.set()
            try:
                self.listener = await run_listener(
                    settings, self.stop_event, hub, on_ready=self._ready_listener
                )
            finally:
                for collector in collectors:
                    collector.cancel()

    def _ready_listener(self, listener: Listener) -> None:
        self.live = listener
        assert listener.client is not None
        # The tests cut the link for a set time: reconnected within 2 s of its end, not after
        # what the backoff grew to meanwhile (up to 16 s more), so a caller the test keeps
        # waiting is still in the queue (its Queue() timeout is 60 s) when the wall is rebuilt.
        listener.client.backoff = Backoff(initial=0.5, maximum=2.0)
        resync = listener.client.on_login
        assert resync is not None

        async def counted() -> None:  # runs before the client connects: nothing missed
            try:
                await resync()
            finally:
                self.resyncs += 1

        listener.client.on_login = counted

    def wait_resynced(self, more_than: int = 0, timeout: float = 60.0) -> int:
        """Until the listener has logged in and finished its resync (more than `more_than`
        of them: pass the count read before a cut or restart); the count now."""
        return wait_for(
            lambda: self.resyncs if self.resyncs > more_than else 0,
            timeout,
            f"the listener logged in to the AMI and resynced (resync #{more_than + 1})",
            last=lambda: self.error,
        )

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run a coroutine in the listener's loop (e.g. pbx.callbacks.call_back)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def call_soon(self, fn: Any, *args: Any) -> None:
        self.loop.call_soon_threadsafe(fn, *args)

    def stop(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.stop_event.set)
        self._thread.join(60)
        if self.error is not None:
            raise self.error
