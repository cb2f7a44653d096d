"""The web app on uvicorn, inside an event loop someone else runs (`callcenter serve`,
`callcenter web`, the tests): signals stay with the caller, `stop` ends it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import uvicorn

from callcenter.config import Settings
from callcenter.pbx.pops import PopHub
from callcenter.pbx.wallboard import LiveBoard
from callcenter.store import db
from callcenter.web.app import create_app
from callcenter.web.dialer import Dialer

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the runner handles SIGINT/SIGTERM and sets `stop`


async def run_web(
    settings: Settings,
    stop: asyncio.Event,
    hub: PopHub,
    sockets: list[socket.socket] | None = None,
    started: asyncio.Event | None = None,
    dialer: Dialer | None = None,
    board: LiveBoard | None = None,
) -> None:
    """Serve until `stop` is set, at settings.web_host:web_port (or on `sockets`). `dialer`
    holds the AMI client of the process's listener (`callcenter serve`), if any; `board`
    its live wallboard."""
    engine = db.make_engine(settings.database_url)
    app = create_app(settings, hub, db.sessions(engine), dialer=dialer, board=board)
    config = uvicorn.Config(
        app,
        host=settings.web_host,
        port=settings.web_port,
        lifespan="off",
        ws="websockets-sansio",
        log_config=None,  # our logging's configuration, not uvicorn's
        access_log=False,
        timeout_graceful_shutdown=5,
        proxy_headers=False,  # the client address is the peer's: throttling trusts no header
    )
    server = _Server(config)

    async def stopper() -> None:
        await stop.wait()
        server.should_exit = True

    async def announce() -> None:
        while not server.started and not server.should_exit:
            await asyncio.sleep(0.01)
        if server.started and started is not None:
            started.set()

    helpers = [asyncio.create_task(stopper()), asyncio.create_task(announce())]
    try:
        await server.serve(sockets=sockets)
    except SystemExit:  # uvicorn's answer to a port it cannot bind
        server.started = False
    finally:
        for task in helpers:
            task.cancel()
        engine.dispose()
    if not server.started:
        raise OSError(f"web app could not listen on {settings.web_host}:{settings.web_port}")
