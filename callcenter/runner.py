"""Running the services in one event loop: `callcenter serve` (all), `agi`, `listen`."""

from __future__ import annotations

import asyncio
import atexit
import collections
import logging
import signal
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from callcenter.config import Settings
from callcenter.pbx.pops import PgPopBridge, PopHub

log = logging.getLogger(__name__)

LISTEN_ALONE_LOGIN_ATTEMPTS = 5


FLUSH_EVERY = 0.1  # s between the log writer's turns


class _Batched(logging.Handler):
    """Keeps formatted lines; a thread writes them out every FLUSH_EVERY seconds, all at
    once. The event loop formats a line and appends it: no write, and no thread woken per
    line (a handoff of the interpreter lock per line cost the loop more than the line)."""

    def __init__(self, out: logging.Handler) -> None:
        super().__init__()
        self.out = out
        self.lines: collections.deque[logging.LogRecord] = collections.deque()
        self.stopped = threading.Event()
        self.writing = threading.Lock()
        self.thread = threading.Thread(target=self._run, name="log-writer", daemon=True)
        self.thread.start()

    def emit(self, record: logging.LogRecord) -> None:
        record.msg = record.getMessage()  # its arguments as they are now
        record.args = None
        if record.exc_info:
            self.out.format(record)  # keeps the traceback's text on the record (exc_text)
            record.exc_info = None
        self.lines.append(record)

    def _run(self) -> None:
        while not self.stopped.wait(FLUSH_EVERY):
            self.flush()
        self.flush()

    def flush(self) -> None:
        """Write what is kept, in order (the thread, or whoever must see it written now)."""
        with self.writing:  # not the handler's lock: logging never waits for a write
            while self.lines:
                self.out.handle(self.lines.popleft())

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        super().close()


def configure_logging(level: str = "INFO", filename: Path | None = None) -> None:
    """Log lines to stderr (or `filename`), written by a thread of their own every 0.1 s:
    the event loop only formats a line, and a slow reader of stderr (a journal under load)
    never holds a caller's answer back. What is left is written when the process exits."""
    out: logging.Handler = (
        logging.FileHandler(filename) if filename is not None else logging.StreamHandler()
    )
    out.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    batched = _Batched(out)
    atexit.register(batched.close)
    root = logging.getLogger()
    root.setLevel(level)
    root.addHandler(batched)


def pop_hub(settings: Settings) -> tuple[PopHub, PgPopBridge | None]:
    hub = PopHub()
    url = make_url(settings.database_url)
    if url.get_backend_name() != "postgresql":
        return hub, None
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    hub.bridge = PgPopBridge(conninfo, hub)
    return hub, hub.bridge


async def run_parts(
    settings: Settings,
    *,
    agi: bool,
    listen: bool,
    web: bool = False,
    record: Path | None = None,
) -> None:
    """Run the chosen parts until SIGINT/SIGTERM; a part that fails stops the others. The
    web app and the listener share one pop hub, and the web app places callbacks through the
    listener's AMI client (a Dialer; empty without the listener) and shows its live wallboard."""
    from callcenter.pbx.listener import run_listener  # noqa: PLC0415
    from callcenter.pbx.wallboard import LiveBoard  # noqa: PLC0415
    from callcenter.store import db  # noqa: PLC0415
    from callcenter.wallboard import count_reader  # noqa: PLC0415
    from callcenter.web.dialer import Dialer  # noqa: PLC0415
    from callcenter.web.server import run_web  # noqa: PLC0415
    from dialplan.main import run_agi  # noqa: PLC0415  (the AGI side loads on demand)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    hub, bridge = pop_hub(settings)
    dialer = Dialer()  # the web's "call back" reaches the listener's AMI client through it
    # The live wallboard: the listener's events feed it, the web app shows it (its counters
    # are read with an engine of their own).
    board_engine = db.make_engine(settings.database_url) if listen else None
    board = LiveBoard(hub, count_reader(db.sessions(board_engine))) if board_engine else None
    jobs: list[Callable[[], Coroutine[Any, Any, object]]] = []
    if agi:
        jobs.append(lambda: run_agi(settings, stop))
    if listen:
        # Callers come first: beside the routing service or the web app, a refused AMI login
        # is retried for as long as the process runs; the listener alone gives up with an error.
        attempts = None if agi or web else LISTEN_ALONE_LOGIN_ATTEMPTS
        jobs.append(
            lambda: run_listener(
                settings,
                stop,
                hub,
                record,
                max_login_attempts=attempts,
                on_ready=lambda live: dialer.attach(live.client),
                board=board,
            )
        )
    if web:
        jobs.append(lambda: run_web(settings, stop, hub, dialer=dialer, board=board))
    if bridge is not None:
        jobs.append(lambda: bridge.run(stop))
    tasks: list[asyncio.Task[object]] = [asyncio.create_task(job()) for job in jobs]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            task.result()
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        if board_engine is not None:
            board_engine.dispose()
