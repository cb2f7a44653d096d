"""Benchmark: the FastAGI routing service's answer time with calls arriving at random.

Run: `.venv/bin/python bench/agi_latency.py [--contracts 100000] [--rate 50] [--rounds 6]
[--calls 1000] [--burst] [--profile FILE]`

In one run: a SQLite file with N contracts; a server process on loopback with the routing
service as `callcenter agi` runs it (`route`: the decision from its snapshot, a log line, the
call log written by a process of its own) and a baseline route that sets one variable and
does nothing else; and this process as the client, playing Asterisk's side of FastAGI. Calls
arrive at `--rate` a second at random (a Poisson process: each starts at its time whether or
not the ones before are answered), `--calls` against the baseline and as many against the
route in each of `--rounds` rounds, the order turned every round. Each request is timed from
connect to the service closing the connection (every command answered). Reports, per round
and over all, p50/p99/p99.9/max of both and the overhead of the route over the baseline, the
server's CPU per request (its process and the call-log process, from /proc) and its resident
memory. `--burst` also times `--concurrent` requests sent at the same instant, 40 times;
`--profile` runs the server under cProfile; `--diagnose` prints what held its event loop
(collector passes, late wake-ups); `--reload S` writes a change to everything every S
seconds (as an import does), so the service reads its whole snapshot again while calls
arrive. Nothing is asserted.

`--slow-store`: the deadline's fail-open answer instead (bench/agi_fail_open.py: the same
callers answered from memory, then with the store locked; `--requests`, `--deadline`).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.proc_stats import children, cpu_of, cpu_seconds, resident_mb
from bench.route_scale import phone, populate
from callcenter.runner import configure_logging
from callcenter.store import db
from callcenter.store.models import RoutingChangeRow
from dialplan.protocol import set_variable
from dialplan.routing import RoutingService, prefer_the_loop
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


def arrival_times(rate: float, count: int, rng: random.Random) -> list[float]:
    """When each of `count` calls arrives, in seconds from the start: a Poisson process of
    `rate` calls a second (independent exponential gaps), as callers on a busy line."""
    times, at = [], 0.0
    for _ in range(count):
        at += rng.expovariate(rate)
        times.append(at)
    return times


async def arriving(
    port: int, script: str, callers: list[str], rate: float, tag: str, rng: random.Random
) -> list[float]:
    """Each caller's request started at its arrival time, whether or not the ones before
    have been answered (an open system: a slow answer does not hold the next call back)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    tasks = []
    for i, (at, caller) in enumerate(
        zip(arrival_times(rate, len(callers), rng), callers, strict=True)
    ):
        delay = start + at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(timed(port, script, caller, f"{tag}.{i}")))
    return list(await asyncio.gather(*tasks))


@dataclass
class Block:
    """One route's calls in one round: answer times (s) and the server's CPU (s)."""

    times: list[float]
    cpu: float  # the service's process and the call-log process
    own: float  # the service's process alone


async def rounds(
    port: int, pid: int, draw: Callable[[int], list[str]], args: argparse.Namespace
) -> list[dict[str, Block]]:
    """`--rounds` rounds; in each, `--calls` arrivals at `--rate` against the baseline and
    as many against the route, the order turned every round (ABBA...), so a slow moment of
    the machine falls on both alike."""
    got = []
    rng = random.Random(23)
    for r in range(args.rounds):
        order = ("baseline", "route") if r % 2 == 0 else ("route", "baseline")
        found = {}
        for script in order:
            callers = draw(args.calls)
            cpu, own = cpu_seconds(pid), cpu_of(pid)
            times = await arriving(port, script, callers, args.rate, f"{script}.r{r}", rng)
            found[script] = Block(times, cpu_seconds(pid) - cpu, cpu_of(pid) - own)
        got.append(found)
    return got


async def reload_every(url: str, seconds: float) -> None:
    """`--reload`: a change to everything (what an import, a closure writes) every `seconds`:
    the service reads the whole snapshot again while calls arrive."""
    engine = db.make_engine(url)
    try:
        while True:
            await asyncio.sleep(seconds)
            with engine.begin() as connection:
                connection.execute(
                    insert(RoutingChangeRow), [{"contract": None, "at": datetime.now(UTC)}]
                )
    finally:
        engine.dispose()


def per_request(block: Block) -> float:
    """CPU per request, ms."""
    return block.cpu / len(block.times) * 1000


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)] * 1000


QS = (("p50", 0.5), ("p99", 0.99), ("p99.9", 0.999), ("max", 1.0))


def report(found: list[dict[str, Block]], args: argparse.Namespace) -> None:
    print(
        f"{args.contracts} contracts (SQLite), {args.rounds} rounds of {args.calls} calls "
        f"per route arriving at {args.rate:g}/s (Poisson); overhead = route - baseline, ms"
    )
    print(
        "round  "
        + "  ".join(f"{n:>7}" for n, _ in QS)
        + "   route "
        + "  ".join(f"{n:>6}" for n, _ in QS)
        + "   base "
        + "  ".join(f"{n:>6}" for n, _ in QS)
        + "  cpu/req route base"
    )
    for i, blocks in enumerate(found):
        base, real = blocks["baseline"], blocks["route"]
        print(
            f"{i + 1:>5}  "
            + "  ".join(f"{pct(real.times, q) - pct(base.times, q):+7.2f}" for _, q in QS)
            + "         "
            + "  ".join(f"{pct(real.times, q):6.2f}" for _, q in QS)
            + "        "
            + "  ".join(f"{pct(base.times, q):6.2f}" for _, q in QS)
            + f"  {per_request(real):6.2f} {per_request(base):5.2f} ms"
        )
    base_all = [t for b in found for t in b["baseline"].times]
    real_all = [t for b in found for t in b["route"].times]
    print(
        "  all  "
        + "  ".join(f"{pct(real_all, q) - pct(base_all, q):+7.2f}" for _, q in QS)
        + "         "
        + "  ".join(f"{pct(real_all, q):6.2f}" for _, q in QS)
        + "        "
        + "  ".join(f"{pct(base_all, q):6.2f}" for _, q in QS)
        + f"  {sum(b['route'].cpu for b in found) / len(real_all) * 1000:6.2f} "
        f"{sum(b['baseline'].cpu for b in found) / len(base_all) * 1000:5.2f} ms"
    )
    for name in ("route", "baseline"):
        calls = sum(len(b[name].times) for b in found)
        own = sum(b[name].own for b in found) / calls * 1000
        log = sum(b[name].cpu - b[name].own for b in found) / calls * 1000
        print(f"CPU per {name} request: service {own:.2f} ms, call-log process {log:.2f} ms")
    worst = {
        n: max(pct(b["route"].times, q) - pct(b["baseline"].times, q) for b in found) for n, q in QS
    }
    print("worst round: " + "  ".join(f"{n} {v:+.2f} ms" for n, v in worst.items()))


class Diagnosis:
    """`--diagnose`: what held the server's event loop, for finding the tail. The garbage
    collector's passes (generation, time taken, when), and every moment the loop woke more
    than 5 ms late for a 10 ms sleep; printed to stderr when the server stops."""

    def __init__(self) -> None:
        self.passes: list[tuple[float, int, float]] = []  # (at, generation, seconds)
        self.late: list[tuple[float, float]] = []  # (at, seconds late)
        self._started = 0.0
        gc.callbacks.append(self._gc)

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            now = time.perf_counter()
            self.passes.append((now, info["generation"], now - self._started))

    async def watch(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.01)
            late = time.perf_counter() - started - 0.01
            if late > 0.005:
                self.late.append((time.perf_counter(), late))

    def report(self) -> None:
        out = sys.stderr
        for generation in range(3):
            took = [t for _, g, t in self.passes if g == generation]
            if took:
                out.write(
                    f"gc gen{generation}: {len(took)} passes, total {sum(took) * 1000:.1f} ms, "
                    f"max {max(took) * 1000:.2f} ms\n"
                )
        late = sorted(t for _, t in self.late)
        out.write(
            f"loop woke late (>5 ms): {len(late)} times; worst "
            f"{', '.join(f'{t * 1000:.0f}' for t in late[-10:])} ms\n"
        )
        for at, lateness in sorted(self.late, key=lambda x: -x[1])[:10]:
            near = [(g, t) for when, g, t in self.passes if at - lateness - 0.02 <= when <= at]
            out.write(f"  late {lateness * 1000:.1f} ms; gc passes then: {near}\n")


async def serve(url: str, diagnose: bool = False) -> None:
    """The server process: both routes, until stdin closes."""
    engine = db.make_engine(url)
    prefer_the_loop()  # as `callcenter agi` does
    service = RoutingService(db.sessions(engine), log_url=url)  # as `callcenter agi` runs
    stop = asyncio.Event()
    follower = asyncio.create_task(service.follow_changes(stop))
    # as `callcenter agi` does before it serves
    await until(lambda: service.snapshot is not None, 120, "the routing snapshot loaded")
    diagnosis = Diagnosis() if diagnose else None  # from the first call on
    watcher = asyncio.create_task(diagnosis.watch()) if diagnosis else None
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
    if diagnosis is not None and watcher is not None:
        watcher.cancel()
        diagnosis.report()


async def run(args: argparse.Namespace, url: str) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--serve",
        url,
        *(["--profile", args.profile] if args.profile else []),
        *(["--diagnose"] if args.diagnose else []),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None and child.stdin is not None
    port = int(await asyncio.wait_for(child.stdout.readline(), 180))
    rng = random.Random(11)

    def draw(k: int) -> list[str]:
        """Callers for one run: drawn afresh each time, so a number the service has
        already seen (and cached) comes up only as often as chance has it."""
        return [phone(rng.randint(1, args.contracts)) for _ in range(k)]

    loaded = resident_mb(child.pid)
    await load(port, "baseline", draw(100), 10, 10)  # warm up
    await load(port, "route", draw(100), 10, 10)
    if args.burst:
        n = args.concurrent * 40
        burst = (
            await load(port, "baseline", draw(n), args.concurrent, 40),
            await load(port, "route", draw(n), args.concurrent, 40),
        )
    reloads = asyncio.create_task(reload_every(url, args.reload)) if args.reload else None
    found = await rounds(port, child.pid, draw, args)
    if reloads is not None:
        reloads.cancel()
    after = resident_mb(child.pid)
    logs = [resident_mb(c) for c in children(child.pid)]
    child.stdin.close()
    await asyncio.wait_for(child.wait(), 60)
    report(found, args)
    print(
        f"service resident memory: {loaded:.0f} MB loaded, {after:.0f} MB after the rounds"
        f" (call-log process: {', '.join(f'{m:.0f} MB' for m in logs) or 'gone'})"
    )
    if args.burst:
        base, real = burst
        print(
            f"burst: {args.concurrent} requests at the same instant, 40 times: p50/p99 "
            f"baseline {pct(base, 0.5):.2f}/{pct(base, 0.99):.2f} ms, route "
            f"{pct(real, 0.5):.2f}/{pct(real, 0.99):.2f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=50.0, help="calls arriving per second")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--calls", type=int, default=1000, help="per route per round")
    parser.add_argument("--burst", action="store_true", help="also: requests all at once")
    parser.add_argument("--concurrent", type=int, default=50, help="burst: requests at once")
    parser.add_argument("--profile", metavar="FILE", help="the server under cProfile")
    parser.add_argument(
        "--reload", type=float, metavar="S", help="a whole reload of the snapshot every S s"
    )
    parser.add_argument("--diagnose", action="store_true", help="the server: gc, loop lag")
    parser.add_argument("--serve", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument(
        "--slow-store", action="store_true", help="the deadline's fail-open answer instead"
    )
    parser.add_argument("--requests", type=int, default=20, help="slow store: callers")
    parser.add_argument("--deadline", type=float, default=1.5, help="slow store: seconds")
    args = parser.parse_args()
    if args.slow_store:
        from bench.agi_fail_open import slow_store

        slow_store(args)
        return
    if args.serve:
        # Logging as `callcenter agi` does (a line per decision), into a file beside the
        # database instead of the terminal.
        configure_logging("INFO", Path(args.serve.removeprefix("sqlite:///")).with_suffix(".log"))
        if args.profile:
            import cProfile

            with cProfile.Profile() as profile:
                asyncio.run(serve(args.serve, args.diagnose))
            profile.dump_stats(args.profile)
            return
        asyncio.run(serve(args.serve, args.diagnose))
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
