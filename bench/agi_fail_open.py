"""`bench/agi_latency.py --slow-store`: the deadline's fail-open answer, timed.

The routing service in this process on a PostgreSQL server the benchmark starts, `--requests`
callers one at a time answered from its in-memory copy (the baseline); then every table it
reads locked, and once its copy has gone stale, the same callers again: each answer is
`fail_open` when the deadline (`--deadline`, default the setting's 1.5 s) passes. Reports
both, and how far past the deadline the locked answers came. (What the FastAGI tests check
without a clock: that the answer arrives, `fail_open`.)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import random
import tempfile
import time
from pathlib import Path

from bench.agi_latency import pct, timed
from bench.route_scale import phone, populate
from callcenter.store import db
from dialplan.routing import RoutingService
from dialplan.server import GuardedApplication, start_server
from tests.support.agi_client import call, headers
from tests.support.waits import until


async def fail_open_times(
    url: str, requests: int, deadline: float, contracts: int
) -> tuple[list[float], list[float], int]:
    """Answer times from memory, then with the store locked; and how many locked answers
    were `fail_open`."""
    import psycopg
    from sqlalchemy.engine import make_url

    engine = db.make_engine(url)
    service = RoutingService(db.sessions(engine), deadline=deadline, stale_after=1.0)
    stop = asyncio.Event()
    follower = asyncio.create_task(service.follow_changes(stop))
    await until(lambda: service.snapshot is not None, 60, "the routing snapshot loaded")
    app = GuardedApplication()
    app.add_route("route", service.handle)
    server = await start_server(app, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    rng = random.Random(5)
    callers = [phone(rng.randint(1, contracts)) for _ in range(requests)]
    for i in range(5):  # warm up: imports, compiled statements
        await timed(port, "route", phone(i + 1), f"warm.{i}")
    memory = [await timed(port, "route", c, f"memory.{i}") for i, c in enumerate(callers)]
    plain = make_url(url).set(drivername="postgresql").render_as_string(False)
    locker = await psycopg.AsyncConnection.connect(plain)
    locked: list[float] = []
    fail_open = 0
    try:
        await locker.execute("BEGIN")
        await locker.execute(
            "LOCK TABLE contracts, calls, routing_changes IN ACCESS EXCLUSIVE MODE"
        )
        await until(lambda: service._trusted() is None, 30, "the routing copy stale (locked)")
        for i, caller in enumerate(callers):
            started = time.perf_counter()
            exchange = await call(port, headers(caller, uniqueid=f"locked.{i}"), timeout=60)
            locked.append(time.perf_counter() - started)
            fail_open += exchange.variables.get("CC_REASON") == "fail_open"
    finally:
        await locker.execute("ROLLBACK")
        await locker.close()
    stop.set()
    await follower
    server.close()
    await server.wait_closed()
    await service.drain()
    engine.dispose()
    return memory, locked, fail_open


def slow_store(args: argparse.Namespace) -> None:
    from tests.conftest import start_postgres  # the same server the tests start

    log_file = Path(tempfile.gettempdir()) / "agi_latency_slow_store.log"
    logging.basicConfig(  # a "routing past deadline" line per locked request goes there
        filename=log_file, level="INFO", format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    server = start_postgres()
    url = next(server) + "/postgres"
    try:
        populate(url, args.contracts)
        gc.collect()
        gc.freeze()
        memory, locked, fail_open = asyncio.run(
            fail_open_times(url, args.requests, args.deadline, args.contracts)
        )
    finally:
        server.close()
    print(
        f"{args.requests} requests one at a time, {args.contracts} contracts (PostgreSQL), "
        f"deadline {args.deadline * 1000:.0f} ms"
    )
    for name, values in (("from memory (store free)", memory), ("store locked", locked)):
        print(f"  {name:>24}: p50 {pct(values, 0.5):8.2f} ms  p99 {pct(values, 0.99):8.2f} ms")
    past = [t - args.deadline for t in locked]
    print(
        f"  locked answers past the deadline: p50 {pct(past, 0.5):+.2f} ms  "
        f"p99 {pct(past, 0.99):+.2f} ms; fail_open: {fail_open} of {len(locked)}"
    )
    print(f"  the service's log: {log_file}")
