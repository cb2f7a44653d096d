"""Benchmark: the AMI listener's full pipeline against panoramisk's bare parse, same stream.

Run: `.venv/bin/python bench/ami_ingest.py [--copies 500] [--rounds 3] [--recording FILE]
[--no-postgres] [--profile]`

The stream is a recording of real calls from this project's Asterisk (a fixture under
tests/fixtures/ami/, made by `callcenter listen --record`), repeated `--copies` times with
every Uniqueid/Linkedid made unique per copy, so each copy is a new set of calls. In one run:

- baseline: the stream's bytes through panoramisk 1.4's AMIProtocol.data_received (split in
  64 KiB reads as a socket would give them), counting the messages it dispatches: parsing only;
- pipeline: the same bytes through our FrameParser and `Listener.handle` (the tracker, the
  pops, the batched call-log writer with callbacks and ticket drafts) until every call is
  written (the routing service's decisions for these calls are written before the timing,
  as it would have written them when each call arrived), into a fresh SQLite file and
  (unless --no-postgres) a PostgreSQL server that the benchmark starts on loopback.

Each mode (no screen open, or op1-op3's; into each database) is measured `--rounds` times,
each time right after a bare parse of its own (a machine shared with other work slows both
alike). Reports per mode the median events/s, the median ratio to the bare parse with the
lowest and highest of the rounds, and CPU seconds per 1,000 calls; beside them the load
average, and our FrameParser's cut and split alone. Nothing is asserted.

`--profile`: where the listener's CPU goes instead (bench/ami_profile.py): each part on its
own thread's clock, then cProfile in every thread.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ami_profile import (
    ClockProbe,
    Probe,
    ThreadProfiles,
    bare_cut_split,
    print_clocks,
    print_profile,
)
from callcenter.config import Settings
from callcenter.domain.contract_csv import COLUMNS, parse_contracts
from callcenter.domain.terms import TicketKind
from callcenter.pbx.frames import Frame, FrameParser
from callcenter.pbx.listener import Listener
from callcenter.pbx.pops import PopHub
from callcenter.pbx.recording import read_recording
from callcenter.store import db, migrate
from callcenter.store import repositories as repo

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "tests" / "fixtures" / "ami" / "answered.jsonl"
READ = 64 * 1024
_ID = re.compile(r"\b(\d{9,11}\.\d+)\b")


def wire(frame: Frame) -> bytes:
    return ("".join(f"{k}: {v}\r\n" for k, v in frame.pairs) + "\r\n").encode("utf-8")


def stream(frames: list[Frame], copies: int) -> tuple[bytes, int, int]:
    """The recording repeated, ids made unique per copy: (bytes, events, calls)."""
    events = [f for f in frames if f.event]
    calls = len(
        {
            f.get("Linkedid")
            for f in events
            if f.event == "Newchannel" and f.get("Uniqueid") == f.get("Linkedid")
        }
    )
    template = b"".join(wire(f) for f in events).decode("utf-8")
    parts = [_ID.sub(rf"\g<1>{copy:05d}", template) for copy in range(copies)]
    return "".join(parts).encode("utf-8"), len(events) * copies, calls * copies


def chunks(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), READ):
        yield data[start : start + READ]


def bare_panoramisk(data: bytes) -> tuple[float, float, int]:
    from panoramisk.ami_protocol import AMIProtocol

    class Counter:
        count = 0

        def dispatch(self, message: object) -> None:
            self.count += 1

    protocol = AMIProtocol()
    protocol.connection_made(transport=None)
    factory = Counter()
    protocol.factory = factory
    protocol.encoding = "utf-8"
    wall, cpu = time.perf_counter(), time.process_time()
    for chunk in chunks(data):
        protocol.data_received(chunk)
    return time.perf_counter() - wall, time.process_time() - cpu, factory.count


def decide_beforehand(data: bytes, url: str) -> None:
    """The contract the recording's calls name (its caller's, with a ticket open), and what
    the routing service writes when each call arrives (its decision naming that contract),
    written here before the timing starts: the benchmark measures the listener, not the
    routing service. Every copy is the same caller, so a ringing pop reads a real contract
    summary, once per batch of pops."""
    engine = db.make_engine(url)
    migrate.upgrade(engine)
    now = datetime.now(UTC)
    frames = list(FrameParser().feed(data, now))
    decisions = [f for f in frames if f.get("UserEvent") == "CallcenterDecision"]
    contract = (decisions[0].get("Contract") if decisions else None) or "R-1"
    inbound = {  # Linkedid -> caller, for each call's inbound leg
        f.get("Linkedid") or "": f.get("CallerIDNum") or ""
        for f in frames
        if f.event == "Newchannel" and f.get("Uniqueid") == f.get("Linkedid")
    }
    phones = ";".join(sorted(set(inbound.values())))
    csv = (
        ",".join(COLUMNS) + "\n"
        f"{contract},Zakład Usług Łódź,phone,yearly,2026-01-01,2026-12-31,SmodCMS,"
        f"https://bench.example.pl,{phones},bench@example.pl,2025-12-20T10:00:00,\n"
    )
    with db.transaction(db.sessions(engine)) as session:
        repo.import_contracts(session, parse_contracts(csv), now)
        question = repo.NewTicket(contract, TicketKind.ANSWER, now, None, "open question")
        repo.add_ticket(session, question, now, actor="bench")
        repo.record_decisions(session, [
            repo.CallDecision(
                linkedid=lid, caller_raw=caller, caller_name="", caller_e164=caller,
                dialled="", route="queue", reason="covered", contract=contract,
                contracts=(contract,), covered=True, arrived_at=now, decided_at=now,
                decision_ms=1.0,
            )
            for lid, caller in inbound.items()
        ])  # fmt: skip
    engine.dispose()


async def pipeline(
    data: bytes, url: str, screens: bool, probe: Probe | None = None
) -> tuple[float, float, int]:
    """One measurement: a fresh listener over `data` into `url`: (wall s, CPU s, events).
    A `probe` other than the plain one (--profile) watches the listener as it goes."""
    probe = probe or Probe()
    decide_beforehand(data, url)
    engine = db.make_engine(url)
    hub = PopHub()
    listener = Listener(db.sessions(engine), Settings(database_url=url), hub)
    probe.prepare(listener)
    await listener.warm_up()  # as run_listener does before it connects
    async with contextlib.AsyncExitStack() as stack:
        if screens:  # every operator's screen open: each ringing pop reads the contract
            for endpoint in ("op1", "op2", "op3"):
                queue = await stack.enter_async_context(hub.subscribe(endpoint))
                screen = asyncio.create_task(_watch(queue))
                stack.callback(screen.cancel)
        result = await probe.ingest(listener, chunks(data))
    await listener.close()
    engine.dispose()
    return result


async def _watch(queue: asyncio.Queue[dict[str, Any]]) -> None:
    """An operator's screen: takes every pop as it comes."""
    while True:
        await queue.get()


def logged(url: str) -> str:
    """What the run left in the log, to read beside its speed: a fast pipeline that
    wrote the wrong thing would show here."""
    engine = db.make_engine(url)
    with engine.connect() as conn:
        ended, answered, drafts, with_contract = conn.execute(text(
            "SELECT (SELECT count(*) FROM calls WHERE state = 'ended'),"
            " (SELECT count(*) FROM calls WHERE outcome = 'answered'),"
            " (SELECT count(*) FROM tickets WHERE status = 'draft' AND call_id IS NOT NULL"
            "  AND contract_id IS NOT NULL),"
            " (SELECT count(*) FROM calls WHERE contract IS NOT NULL)"
        )).one()  # fmt: skip
    engine.dispose()
    return (
        f"log: {ended} calls ended, {answered} answered, {drafts} ticket drafts "
        f"on the contract, {with_contract} naming it"
    )


def _fresh_database(url: str, name: str, tmp: str) -> str:
    """An empty database for one measurement."""
    if url.startswith("sqlite"):
        return f"sqlite:///{Path(tmp) / name}.db"
    import psycopg

    base = url.rsplit("/", 1)[0]
    with psycopg.connect(f"{base.replace('+psycopg', '')}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


@dataclass
class Round:
    """One measurement of one mode, beside the bare parse timed just before it."""

    ratio: float
    rate: float  # the pipeline's events/s
    base: float  # the bare parse's events/s, just before
    cpu: float  # the pipeline's CPU seconds per 1,000 calls


def measure(
    targets: dict[str, str], data: bytes, events: int, calls: int, rounds: int, tmp: str
) -> None:
    """`rounds` rounds; in each, every mode (no screen, then op1-op3's screens open; each
    target) is the bare parse then the pipeline, back to back, so a machine busy with other
    work slows both alike. Then per mode: the median over the rounds, and the spread."""
    found: dict[tuple[bool, str], list[Round]] = {}
    cut_split: list[float] = []
    logs: dict[tuple[bool, str], str] = {}
    print(f"  load average at the start: {_load()}")
    for number in range(1, rounds + 1):
        cut_split.append(events / min(bare_cut_split(chunks(data))[0] for _ in range(2)))
        for screens in (False, True):
            for name, url in targets.items():
                bare, _, _ = bare_panoramisk(data)
                fresh = _fresh_database(url, f"ingest_{number}_{int(screens)}", tmp)
                wall, cpu, handled = asyncio.run(pipeline(data, fresh, screens))
                rate, base = handled / wall, events / bare
                found.setdefault((screens, name), []).append(
                    Round(rate / base, rate, base, cpu / calls * 1000)
                )
                logs[screens, name] = logged(fresh)
        print(f"  round {number} of {rounds} done, load average {_load()}")
    bases = [r.base for runs in found.values() for r in runs]
    print(
        f"  bare parse, median of every run: panoramisk {statistics.median(bases):,.0f} "
        f"events/s; our FrameParser's cut+split alone {statistics.median(cut_split):,.0f} "
        f"events/s (its best of two in each round)"
    )
    for screens in (False, True):
        print(
            "  operators' screens open (pops read contracts):"
            if screens
            else "  no operator's screen open (pops go nowhere):"
        )
        for name in targets:
            runs = found[screens, name]
            ratios = sorted(r.ratio for r in runs)
            print(
                f"    pipeline into {name:<10}: {statistics.median(r.rate for r in runs):8,.0f} "
                f"events/s  ratio {statistics.median(ratios):5.1%} of bare parse "
                f"(rounds {ratios[0]:.1%}-{ratios[-1]:.1%})  "
                f"CPU {statistics.median(r.cpu for r in runs):5.2f} s per 1,000 calls"
            )
            print(
                "      each round: "
                + ", ".join(f"{r.ratio:.1%} ({r.rate:,.0f}/{r.base:,.0f} ev/s, {r.cpu:.2f} s)"
                            for r in runs)
            )  # fmt: skip
            print(f"      {logs[screens, name]}")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def profile(
    targets: dict[str, str], data: bytes, calls: int, panoramisk_cpu: float, tmp: str
) -> None:
    """--profile: where the CPU goes (bench/ami_profile.py), into each target."""
    cut_split = min(bare_cut_split(chunks(data))[1] for _ in range(3))
    for screens in (False, True):
        for name, url in targets.items():
            print(f"profile: into {name}, {'op1-op3 screens open' if screens else 'no screen'}")
            clocks = ClockProbe()
            fresh = _fresh_database(url, f"clocks_{int(screens)}", tmp)
            asyncio.run(pipeline(data, fresh, screens, clocks))
            print_clocks(clocks.clocks, calls, cut_split, panoramisk_cpu)
            profiles = ThreadProfiles()
            fresh = _fresh_database(url, f"profile_{int(screens)}", tmp)
            asyncio.run(pipeline(data, fresh, screens, profiles))
            print_profile(profiles.stats(), calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recording", type=Path, default=DEFAULT)
    parser.add_argument("--copies", type=int, default=500)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="measurements of each mode")
    parser.add_argument(
        "--profile", action="store_true", help="where the CPU goes (see bench/ami_profile.py)"
    )
    args = parser.parse_args()
    data, events, calls = stream(read_recording(args.recording), args.copies)
    print(
        f"stream: {events} events, {calls} calls, {len(data) / 1e6:.1f} MB "
        f"({args.recording.name} x {args.copies})"
    )
    with tempfile.TemporaryDirectory() as tmp:  # a first pass: imports, compiled statements
        warm, _, _ = stream(read_recording(args.recording), 10)
        asyncio.run(pipeline(warm, f"sqlite:///{Path(tmp) / 'warm.db'}", True))
        bare_panoramisk(warm)
    wall, cpu, parsed = bare_panoramisk(data)
    print(
        f"  panoramisk bare parse : {events / wall:10.0f} events/s  ({parsed} messages)  "
        f"CPU {cpu / calls * 1000:6.2f} s per 1,000 calls"
    )
    with tempfile.TemporaryDirectory() as tmp:
        targets = {"SQLite": f"sqlite:///{Path(tmp) / 'ingest.db'}"}
        server: Generator[str, None, None] | None = None
        if not args.no_postgres:
            from tests.conftest import start_postgres  # the same server the tests start

            server = cast(Generator[str, None, None], start_postgres())
            targets["PostgreSQL"] = next(server) + "/postgres"
        try:
            if args.profile:
                profile(targets, data, calls, cpu, tmp)
            else:
                measure(targets, data, events, calls, args.rounds, tmp)
        finally:
            if server is not None:
                server.close()


if __name__ == "__main__":
    main()
