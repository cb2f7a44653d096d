"""Benchmark: the FastAGI routing service's answer time under concurrent calls.

Run: `.venv/bin/python bench/agi_latency.py [--concurrent 50] [--rounds 20] [--contracts 10000]`

In one run: a SQLite file with N contracts; a server process on loopback with the routing
service (`route`: the real decision and call log) and a baseline route that sets one variable
and does nothing else; and this process as the client, playing Asterisk's side of FastAGI. It
places `--concurrent` requests at once, `--rounds` times, against each route, and measures each
request from connect to the service closing the connection (every SET VARIABLE answered).
Reports p50/p99 of both and the overhead of the real route over the baseline. Nothing is
asserted.

`--slow-store`: the deadline's fail-open answer instead (what the FastAGI tests check without
a clock). The routing service in this process on a PostgreSQL server the benchmark starts,
`--requests` callers one at a time answered from its in-memory copy (the baseline); then every
table it reads locked, and once its copy has gone stale, the same callers again: each answer
is `fail_open` when the deadline (`--deadline`, default the setting's 1.5 s) passes. Reports
both, and how far past the deadline the locked answers came.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.route_scale import phone, populate
from callcenter.store import db
from dialplan.protocol import set_variable
from dialplan.routing import RoutingService
from dialplan.server import AgiChannel, GuardedApplication, start_server
from tests.support.agi_client import call, headers
from tests.support.waits import until


async def baseline(channel: AgiChannel) -> None:
    await channel.send(set_variable("CC_ROUTE", "queue"))


async def timed(port: int, script: str, caller: str, uid: str) -> float:
    started = time.perf_counter()
    await call(port, headers(caller, script=script, uniqueid=uid))
    return time.perf_counter() - started


async def load(
    port: int, script: str, callers: list[str], concurrent: int, rounds: int
) -> list[float]:
    times: list[float] = []
    for r in range(rounds):
        batch = callers[r * concurrent : (r + 1) * concurrent]
        times += await asyncio.gather(
            *(timed(port, script, c, f"{script}.{r}.{i}") for i, c in enumerate(batch))
        )
    return times


async def paced(
    port: int,
    script: str,
    callers: list[str],
    concurrent: int,
    rounds: int,
    gap: float,
    seed: int = 0,
) -> list[float]:
    """`concurrent` callers, each asking `rounds` times with a random pause (mean `gap` s)
    between: calls arriving spread out, as on a line with that many calls in progress."""
    rng = random.Random(seed)

    async def one(i: int) -> list[float]:
        got = []
        for r in range(rounds):
            await asyncio.sleep(rng.expovariate(1 / gap))
            got.append(
                await timed(
                    port,
                    script,
                    callers[(i * rounds + r) % len(callers)],
                    f"{script}.p{seed}.{i}.{r}",
                )
            )
        return got

    return [
        t for chunk in await asyncio.gather(*(one(i) for i in range(concurrent))) for t in chunk
    ]


async def alternating(
    port: int,
    draw: Callable[[int], list[str]],
    concurrent: int,
    rounds: int,
    gap: float,
    segments: int,
) -> tuple[list[float], list[float]]:
    """Paced load in `segments` parts, baseline and route taking turns (ABBA...), so that a
    slow moment of the machine falls on both alike."""
    got: dict[str, list[float]] = {"baseline": [], "route": []}
    per = max(1, rounds // segments)
    for segment in range(segments):
        order = ("baseline", "route") if segment % 2 == 0 else ("route", "baseline")
        for script in order:
            callers = draw(concurrent * per)
            got[script] += await paced(port, script, callers, concurrent, per, gap, segment)
    return got["baseline"], got["route"]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)] * 1000


async def serve(url: str) -> None:
    """The server process: both routes, until stdin closes."""
    engine = db.make_engine(url)
    service = RoutingService(db.sessions(engine), log_url=url)  # as `callcenter agi` runs
    stop = asyncio.Event()
    follower = asyncio.create_task(service.follow_changes(stop))
    # as `callcenter agi` does before it serves
    await until(lambda: service.snapshot is not None, 60, "the routing snapshot loaded")
    app = GuardedApplication()
    app.add_route("route", service.handle)
    app.add_route("baseline", baseline)
    server = await start_server(app, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    stop.set()
    await follower
    server.close()
    await service.drain()
    engine.dispose()


async def run(args: argparse.Namespace, url: str) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--serve",
        url,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None and child.stdin is not None
    port = int(await asyncio.wait_for(child.stdout.readline(), 60))
    rng = random.Random(11)
    n = args.concurrent * args.rounds

    def draw(k: int) -> list[str]:
        """Callers for one run: drawn afresh each time, so a number the service has
        already seen (and cached) comes up only as often as chance has it."""
        return [phone(rng.randint(1, args.contracts)) for _ in range(k)]

    await load(port, "baseline", draw(2 * args.concurrent), args.concurrent, 2)  # warm up
    await load(port, "route", draw(2 * args.concurrent), args.concurrent, 2)
    modes = {
        f"burst: {args.concurrent} requests at the same instant, {args.rounds} times": (
            await load(port, "baseline", draw(n), args.concurrent, args.rounds),
            await load(port, "route", draw(n), args.concurrent, args.rounds),
        ),
        f"paced: {args.concurrent} callers, a request every {args.gap * 1000:.0f} ms each "
        f"on average, baseline and route taking turns in {args.segments} parts": (
            await alternating(port, draw, args.concurrent, args.rounds, args.gap, args.segments)
        ),
    }
    child.stdin.close()
    await asyncio.wait_for(child.wait(), 60)
    print(f"{n} requests per mode, {args.contracts} contracts (SQLite)")
    for mode, (base, real) in modes.items():
        print(mode)
        for name, values in (("baseline (one variable)", base), ("route (decide + log)", real)):
            print(
                f"  {name:>24}: p50 {pct(values, 0.5):7.2f} ms  p99 {pct(values, 0.99):7.2f} ms"
                f"  mean {statistics.mean(values) * 1000:7.2f} ms"
            )
        print(
            f"  overhead over baseline: p50 {pct(real, 0.5) - pct(base, 0.5):+.2f} ms  "
            f"p99 {pct(real, 0.99) - pct(base, 0.99):+.2f} ms  "
            f"(ratio p50 {pct(real, 0.5) / pct(base, 0.5):.2f}x, "
            f"p99 {pct(real, 0.99) / pct(base, 0.99):.2f}x)"
        )


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--contracts", type=int, default=10_000)
    parser.add_argument("--gap", type=float, default=0.5, help="paced mode: mean pause, s")
    parser.add_argument("--segments", type=int, default=8, help="paced mode: turns taken")
    parser.add_argument("--serve", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument(
        "--slow-store", action="store_true", help="the deadline's fail-open answer instead"
    )
    parser.add_argument("--requests", type=int, default=20, help="slow store: callers")
    parser.add_argument("--deadline", type=float, default=1.5, help="slow store: seconds")
    args = parser.parse_args()
    if args.slow_store:
        slow_store(args)
        return
    if args.serve:
        # Logging as `callcenter agi` does (a line per decision), into a file beside the
        # database instead of the terminal.
        log_file = Path(args.serve.removeprefix("sqlite:///")).with_suffix(".log")
        logging.basicConfig(
            filename=log_file, level="INFO", format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
        asyncio.run(serve(args.serve))
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        populate(url, args.contracts)
        # This process stands in for Asterisk, which has no garbage collector: keep the
        # collector's pauses over what populate() left behind out of the measured times.
        gc.collect()
        gc.freeze()
        asyncio.run(run(args, url))


if __name__ == "__main__":
    main()
