"""Where the listener's CPU goes over the replayed stream: `bench/ami_ingest.py --profile`.

Two passes over the same stream into a fresh database each:

1. clocks, no profiler: the process's CPU, and each part's CPU read from its own thread's
   clock (`time.thread_time`): cutting and splitting the frames (FrameParser.feed) and
   `Listener.handle` in the main thread, the call-log writer's batches on its database
   thread, the pops' contract reads on theirs; what the main thread spent besides (the event
   loop, the writer's task, the pops' callbacks) is the main thread's clock minus those two.
   Beside them: FrameParser.feed alone and panoramisk's parse over the same bytes.
2. cProfile in every thread the listener runs Python in (the main one, and the database and
   pop-info threads, whose executors start a profiler in each worker): own time summed by
   part (module), and the functions with the most own time. cProfile slows Python calls,
   not C, so its shares lean towards code with many small calls: read the clocks for the
   sizes, the profile for the why. Its timer is each thread's CPU clock, so a thread that
   waits (for work, for the database's reply, for the interpreter lock) counts nothing.

Every figure is per 1,000 calls.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from callcenter.pbx.frames import FrameParser
from callcenter.pbx.listener import Listener

ROOT = str(Path(__file__).resolve().parent.parent) + "/"
_LIBRARY = re.compile(r"^.*/(?:site-packages|lib/python3\.\d+)/")

# Own time grouped by the file it is spent in: the first group whose marker is in the path.
PARTS: tuple[tuple[str, str], ...] = (
    ("cut+split (pbx/frames.py)", "callcenter/pbx/frames.py"),
    ("listener glue (pbx/listener.py)", "callcenter/pbx/listener.py"),
    ("call machine (domain/)", "callcenter/domain/"),
    ("call log and pop reads (store/, popinfo, services)", "callcenter/store/"),
    ("call log and pop reads (store/, popinfo, services)", "callcenter/pbx/popinfo.py"),
    ("call log and pop reads (store/, popinfo, services)", "callcenter/services.py"),
    ("call-log writer (call_log_writer.py)", "callcenter/call_log_writer.py"),
    ("pops hub (pbx/pops.py)", "callcenter/pbx/pops.py"),
    ("SQLAlchemy", "/sqlalchemy/"),
    ("database driver (sqlite3, psycopg)", "sqlite3"),
    ("database driver (sqlite3, psycopg)", "/psycopg"),
    ("asyncio event loop", "/asyncio/"),
    ("dataclasses.replace", "dataclasses.py"),
    ("logging", "/logging/"),
)


OTHER = "other (built-ins: str, dict, re..., called from all of the above)"


@dataclass
class Clocks:
    """Thread CPU seconds of each part of one pipeline run."""

    parse: float = 0.0
    handle: float = 0.0
    main: float = 0.0
    writer: float = 0.0
    pop_reads: float = 0.0
    process: float = 0.0
    wall: float = 0.0
    batches: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Probe:
    """How one measurement is watched: `prepare` the listener, then `ingest` the stream.
    This one watches nothing (the plain benchmark loop)."""

    def prepare(self, listener: Listener) -> None:
        pass

    async def ingest(self, listener: Listener, chunks: Iterator[bytes]) -> tuple[float, float, int]:
        parser = FrameParser()
        handled = 0
        wall, cpu = time.perf_counter(), time.process_time()
        for chunk in chunks:
            now = datetime.now(UTC)
            for frame in parser.feed(chunk, now):
                await listener.handle(frame)
                handled += 1
            await asyncio.sleep(0)  # let the writer run, as reads from a socket would
        await listener.flush(timeout=600)
        return time.perf_counter() - wall, time.process_time() - cpu, handled


class ClockProbe(Probe):
    """Each part's CPU on its own thread's clock (see the module's docstring)."""

    def __init__(self) -> None:
        self.clocks = Clocks()

    def prepare(self, listener: Listener) -> None:
        clocks = self.clocks
        write, read = listener._write_batch, listener._pop_infos_read

        def write_batch(batch: list[Any]) -> None:
            start = time.thread_time()
            try:
                write(batch)
            finally:
                with clocks.lock:
                    clocks.writer += time.thread_time() - start
                    clocks.batches += 1

        def pop_infos_read(calls: list[Any]) -> dict[str, dict[str, Any]]:
            start = time.thread_time()
            try:
                return read(calls)
            finally:
                with clocks.lock:
                    clocks.pop_reads += time.thread_time() - start

        listener._write_batch = write_batch  # type: ignore[method-assign]
        listener._pop_infos_read = pop_infos_read  # type: ignore[method-assign]

    async def ingest(self, listener: Listener, chunks: Iterator[bytes]) -> tuple[float, float, int]:
        clocks, parser, handled = self.clocks, FrameParser(), 0
        main, process, wall = time.thread_time(), time.process_time(), time.perf_counter()
        for chunk in chunks:
            t0 = time.thread_time()
            frames = parser.feed(chunk, datetime.now(UTC))
            t1 = time.thread_time()
            for frame in frames:
                await listener.handle(frame)
            clocks.parse += t1 - t0
            clocks.handle += time.thread_time() - t1
            handled += len(frames)
            await asyncio.sleep(0)
        await listener.flush(timeout=600)
        clocks.main = time.thread_time() - main
        clocks.process = time.process_time() - process
        clocks.wall = time.perf_counter() - wall
        return clocks.wall, clocks.process, handled


def bare_cut_split(chunks: Iterator[bytes]) -> tuple[float, float]:
    """FrameParser.feed alone over the stream: (wall s, CPU s)."""
    parser = FrameParser()
    wall, cpu = time.perf_counter(), time.process_time()
    for chunk in chunks:
        parser.feed(chunk)
    return time.perf_counter() - wall, time.process_time() - cpu


def print_clocks(clocks: Clocks, calls: int, cut_split: float, panoramisk: float) -> None:
    per = 1000 / calls

    def line(label: str, seconds: float) -> None:
        print(f"    {label:<58}: {seconds * per:6.2f} s")

    print("  CPU per 1,000 calls (thread clocks, no profiler):")
    line("panoramisk's bare parse (same bytes)", panoramisk)
    line("FrameParser.feed alone: the bare cut+split", cut_split)
    line("pipeline, whole process", clocks.process)
    line("  main thread: cut+split (FrameParser.feed)", clocks.parse)
    line("  main thread: Listener.handle (tracker, marks, pops)", clocks.handle)
    line("  main thread: the rest (event loop, writer task, pop callbacks)",
         clocks.main - clocks.parse - clocks.handle)  # fmt: skip
    line(f"  database thread: call-log batches ({clocks.batches})", clocks.writer)
    line("  pop-info threads: contract summaries", clocks.pop_reads)
    print(f"    wall {clocks.wall:.2f} s")


class ThreadProfiles(Probe):
    """A cProfile per thread: the main thread's, and one per executor worker."""

    def __init__(self) -> None:
        self.main = cProfile.Profile(time.thread_time)
        self.workers: list[cProfile.Profile] = []
        self._lock = threading.Lock()

    def start_worker(self) -> None:  # an executor's initializer: runs in the new worker
        profile = cProfile.Profile(time.thread_time)
        with self._lock:
            self.workers.append(profile)
        profile.enable()

    def prepare(self, listener: Listener) -> None:
        """Give the listener executors whose workers run under a profiler."""
        listener.db.shutdown()
        listener.reads.shutdown()
        listener.db = ThreadPoolExecutor(1, "call-log", initializer=self.start_worker)
        listener.reads = ThreadPoolExecutor(2, "pop-info", initializer=self.start_worker)

    async def ingest(self, listener: Listener, chunks: Iterator[bytes]) -> tuple[float, float, int]:
        self.main.enable()
        try:
            return await super().ingest(listener, chunks)
        finally:
            self.main.disable()

    def stats(self) -> pstats.Stats:
        stats = pstats.Stats(self.main)
        for profile in self.workers:
            stats.add(profile)
        return stats


def print_profile(stats: pstats.Stats, calls: int, top: int = 25) -> None:
    """Own time by part, then the functions with the most own time, per 1,000 calls."""
    per = 1000 / calls
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for _, _, tt, _, _ in raw.values())
    parts: dict[str, float] = {}
    for (path, _, name), (_, _, own, _, _) in raw.items():
        where = f"{path}:{name}"
        part = next((label for label, marker in PARTS if marker in where), OTHER)
        parts[part] = parts.get(part, 0.0) + own
    print(f"  cProfile, own time by part (profiled total {total * per:.2f} s per 1,000 calls):")
    for part, own in sorted(parts.items(), key=lambda item: -item[1]):
        print(f"    {part:<70}: {own * per:6.2f} s  {own / total:5.1%}")
    print(f"  the {top} functions with the most own time (per 1,000 calls):")
    ranked = sorted(raw.items(), key=lambda item: -item[1][2])[:top]
    for (path, line, name), (_, calls_made, own, cumulative, _) in ranked:
        short = _LIBRARY.sub("", path.removeprefix(ROOT))
        print(
            f"    {own * per:6.3f} s own {cumulative * per:6.3f} s cum "
            f"{calls_made * per:9.0f} calls  {name} ({short}:{line})"
        )
