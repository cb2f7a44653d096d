"""Running the FastAGI routing service: `callcenter agi` alone, or inside `callcenter serve`."""

from __future__ import annotations

import asyncio
import logging

from callcenter.config import Settings
from callcenter.store import db, migrate
from dialplan.routing import RoutingService, prefer_the_loop
from dialplan.server import GuardedApplication, start_server

log = logging.getLogger(__name__)

SNAPSHOT_WAIT = 60.0  # seconds to load the routing inputs before serving


async def run_agi(settings: Settings, stop: asyncio.Event) -> None:
    """Serve FastAGI until `stop` is set; then finish the calls in progress and their logs."""
    engine = db.make_engine(settings.database_url)
    migrate.require_schema(engine)
    prefer_the_loop()
    service = RoutingService(
        db.sessions(engine),
        region=settings.region,
        deadline=settings.agi_deadline,
        log_url=settings.database_url,
    )
    follower = asyncio.create_task(service.follow_changes(stop), name="routing-snapshot")
    async with asyncio.timeout(SNAPSHOT_WAIT):  # decide from memory from the first call on
        while service.snapshot is None and not follower.done():
            await asyncio.sleep(0.05)
    app = GuardedApplication()
    app.add_route("route", service.handle)
    server = await start_server(app, settings.agi_host, settings.agi_port)
    log.info("fastagi listening on %s:%d", settings.agi_host, settings.agi_port)
    try:
        await stop.wait()
    finally:
        await follower
        server.close()
        await server.wait_closed()
        if app.active:
            await asyncio.wait(app.active, timeout=10)
        await service.drain()
        engine.dispose()
        log.info("fastagi stopped")
