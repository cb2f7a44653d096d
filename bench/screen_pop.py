"""Benchmark: the screen pop, from Asterisk's AgentCalled to the operator's screen, over real calls.

Run (as root, like the tests that place calls; one Asterisk run at a time on a machine):

    flock /tmp/cc-asterisk.lock .venv/bin/python bench/screen_pop.py [--calls 40]

What runs, in one run (every process is stopped at the end, the Asterisk too unless it was
already running):

- the local Asterisk 22 (asterisk-conf/local-asterisk; AMI events carry `Timestamp`);
- the service as `callcenter serve` runs it (`callcenter.runner.run_parts`: the routing service,
  the AMI listener and the web app on one event loop) in a process of its own, on a fresh SQLite
  file with the demo contracts and operator `op1`. The bench adds two routes to the web app
  instance it builds (the product has no switch for them): `/bench/ws`, a bare WebSocket,
  `POST /bench/send?size=N`, which sends one message of N bytes to every `/bench/ws` socket,
  and `GET /bench/trace/LINKEDID` (below);
- the operators' phones op1-op3: sipp that rings and never answers (tests/sipp/uas_ring.xml);
- two screens of operator op1: a WebSocket client in a process of its own (`/ws/pops` with a
  bearer token, and `/bench/ws`), and the real operator page `/` in headless Chromium
  (/usr/bin/chromium through Playwright, `--no-sandbox`), logged in through `/login`;
- `--calls` calls (after `--warmup` more), one after the other, from the carrier (sipp,
  tests/sipp/caller_abandon.xml) from demo customers whose contract covers the call (one of
  them has two contracts: an ambiguous pop listing both), each queued, ringing op1-op3, and
  abandoned after `--hold` seconds (the queue's prompt and the position announcement take
  about 11 s before the phones ring: a call takes 14 s, 40 calls about 10 minutes).

Measured for each call, from the Timestamp of the AgentCalled event of op1 (Asterisk rings
op1's phone):

  (a) the ringing pop received by the WebSocket client (stamped before it is parsed);
  (b) the pop's card (`.pop[data-linkedid]`, made by pops.js) in the Chromium page's DOM.

Then, while the call still rings, the baseline, a bare message of the same size (bytes)
through the same server, process and event loop: `POST /bench/send` reads the server's clock
and sends it to the client's `/bench/ws` and to the page's (a second WebSocket the bench opens
in the same page, whose handler parses the JSON and appends a div):

  (a) the server's send -> the message received by the WebSocket client;
  (b) the server's send -> the div in the DOM.

The pop's figures hold the AMI delivery, the listener (parse, call tracker, the contract
summary read from the database), the pop hub, the socket and the page's drawing; the
baseline's only the socket and a minimal page handler. Where the pop's time goes: the server
process stamps (a dict write each, wrapped around the instance's classes by the bench) when
the listener takes op1's AgentCalled and when op1's ringing pop reaches the hub; the bench
reads them back (`GET /bench/trace/LINKEDID`) and prints the legs.

The clock. Every instant is put on one clock, the machine's CLOCK_MONOTONIC, which every
party reads:

- the WebSocket client and the server read `time.monotonic()`. When the real clock is outside
  the line's working hours (08:00-16:00 Warsaw on a working day) for the run's length, the
  service runs under libfaketime from 10:00 of a working day (today's if it is one and not
  yet 10:00, else the next), as `scripts/demo` does, with
  `FAKETIME_DONT_FAKE_MONOTONIC=1`: its wall clock is moved, its monotonic clock is the real
  one (the contracts are moved to that day with the demo's own `callcenter.demo.prepare`).
  Asterisk and everything else run on real time;
- Chromium's `performance.now()` counts CLOCK_MONOTONIC from the page's time origin: the
  offset is calibrated at each call by evaluating `performance.now()` in the page between two
  readings of `time.monotonic()` here, five times: each reading bounds the offset, which is
  constant, so it lies where the bounds of all of them meet (widened by the 0.1 ms to which
  Chromium coarsens its times); the midpoint is used, the half-width printed;
- the AgentCalled `Timestamp` is Asterisk's real clock (CLOCK_REALTIME, microseconds). It is
  put on CLOCK_MONOTONIC with the difference between the two clocks read here when the event
  arrives (over a few seconds the two run at the same rate). As a check, the delay from that
  Timestamp to the event's arrival at this process's own AMI connection is printed: a few
  tenths of a millisecond, never negative, when the clocks are aligned.

When the element is "drawn": a MutationObserver (the bench's, on `#pops` and on the
baseline's box) reads `performance.now()` in its callback, which runs as a microtask right
after the script that added the element has finished (pops.js's message handler, which also
fills the card): the element is then in the DOM with its content. The callback also asks for
the next animation frame (`requestAnimationFrame`, 60 Hz in headless Chromium) and reads the
time there, at the start of the frame that paints it: printed beside, as "next frame".

Reports p50 / p99 / max of each, and how many pops did not arrive (the run does not stop for
them). Nothing is asserted. The logs (service, sipp) stay in .run/screen-pop/.

Besides this file (the run: Asterisk, the phones, the calls): bench/screen_pop_processes.py
(the service with the bench's routes, and the WebSocket client), bench/screen_pop_page.py
(the page in Chromium), bench/screen_pop_report.py (the figures).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.screen_pop_page import operator_page, page_clock
from bench.screen_pop_report import Sample, report
from callcenter.domain.calendar import Calendar, warsaw
from callcenter.pbx.frames import FrameParser
from tests.support.faketime import remove_leftovers

ROOT = Path(__file__).resolve().parent.parent
SIPP_DIR = ROOT / "tests" / "sipp"
PROCESSES = str(ROOT / "bench" / "screen_pop_processes.py")  # the service, the client
AMI = ("127.0.0.1", 5038)
AMI_USER, AMI_SECRET = "callcenter", "callcenter-secret"  # asterisk-conf/manager.conf's test value
ASTERISK_SIP = "127.0.0.1:5060"
TRUNK_IP = "127.0.0.2"
SUPPORT_NUMBER = "800123456"
PASSWORD = "screen-pop-bench"
# Demo customers whose contract covers a call on the demo day (callcenter/demo/prepare.py):
# two with one contract, one with two (the pop lists both).
CALLERS = (
    ("604567890", "Agencja Świt"),
    ("607890123", "Fundacja Źródło"),
    ("605678901", "Świt albo Źródło"),
)
WAIT = 15.0  # seconds: the longest wait for any one thing of a call


# --------------------------------------------------------------------------------------
# The bench: processes, the page, the calls
# --------------------------------------------------------------------------------------


@dataclass
class Feeds:
    """What the client process, the page and the AMI report, as it comes."""

    client: dict[tuple[str, str], asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    page: dict[tuple[str, str], asyncio.Future[tuple[float, float]]] = field(default_factory=dict)
    called: asyncio.Queue[tuple[str, float, float]] = field(default_factory=asyncio.Queue)
    rung: set[str] = field(default_factory=set)  # calls measured already

    def _future(self, table: dict[tuple[str, str], Any], key: tuple[str, str]) -> Any:
        if key not in table:
            table[key] = asyncio.get_running_loop().create_future()
        return table[key]

    def client_got(self, line: dict[str, Any]) -> None:
        if line.get("socket") == "bare":
            key = ("bare", str(line.get("seq")))
        elif line.get("kind") == "ringing" and line.get("endpoint") == "op1":
            key = ("pop", str(line.get("linkedid")))
        else:
            return
        future = self._future(self.client, key)
        if not future.done():
            future.set_result(line)

    def page_saw(self, kind: str, key: str, dom: float, frame: float) -> None:
        future = self._future(self.page, (kind, str(key)))
        if not future.done():
            future.set_result((dom, frame))

    async def from_client(self, kind: str, key: str) -> dict[str, Any] | None:
        return await _bounded(self._future(self.client, (kind, key)))

    async def from_page(self, kind: str, key: str) -> tuple[float, float] | None:
        return await _bounded(self._future(self.page, (kind, key)))


async def _bounded(future: asyncio.Future[Any]) -> Any:
    try:
        return await asyncio.wait_for(asyncio.shield(future), WAIT)
    except TimeoutError:
        return None


def clocks() -> float:
    """CLOCK_REALTIME - CLOCK_MONOTONIC now (the tightest of three readings)."""
    best = (float("inf"), 0.0)
    for _ in range(3):
        before = time.monotonic()
        real = time.time()
        after = time.monotonic()
        best = min(best, (after - before, real - (before + after) / 2))
    return best[1]


async def watch_ami(feeds: Feeds, ready: asyncio.Event) -> None:
    """The bench's own AMI connection: AgentCalled of op1 -> (Linkedid, Timestamp on
    CLOCK_MONOTONIC, arrival here)."""
    reader, writer = await asyncio.open_connection(*AMI)
    writer.write(
        f"Action: Login\r\nActionID: bench\r\nUsername: {AMI_USER}\r\nSecret: {AMI_SECRET}\r\n"
        "Events: agent\r\n\r\n".encode()
    )
    parser = FrameParser()
    try:
        while data := await reader.read(65536):
            arrived = time.monotonic()
            for frame in parser.feed(data):
                if frame.get("ActionID") == "bench":
                    if frame.get("Response") != "Success":
                        raise RuntimeError(f"bench AMI login refused: {frame.get('Message')}")
                    ready.set()
                if frame.event == "AgentCalled" and frame.get("Interface") == "PJSIP/op1":
                    stamp = float(frame.get("Timestamp") or "nan")
                    linkedid = frame.get("Linkedid") or ""
                    feeds.called.put_nowait((linkedid, stamp - clocks(), arrived))
    finally:
        writer.close()


async def read_client(process: asyncio.subprocess.Process, feeds: Feeds) -> None:
    assert process.stdout is not None
    while line := await process.stdout.readline():
        feeds.client_got(json.loads(line))


@dataclass
class Procs:
    """Processes started by the bench, each in a session of its own: stopped at the end."""

    started: list[asyncio.subprocess.Process] = field(default_factory=list)

    async def start(self, *args: str, **kwargs: Any) -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_exec(*args, start_new_session=True, **kwargs)
        self.started.append(process)
        return process

    async def stop(self, process: asyncio.subprocess.Process, sig: int = signal.SIGTERM) -> None:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
        remove_leftovers(process.pid)  # when the service ran under faketime

    async def stop_all(self) -> None:
        for process in reversed(self.started):
            await self.stop(process)


def prepare(workdir: Path, day: date) -> str:
    """A fresh SQLite file: the demo contracts moved to `day`, operator op1."""
    from callcenter import accounts
    from callcenter.demo.prepare import ANCHOR, CONTRACTS, shift_contracts
    from callcenter.domain.accounts import Role
    from callcenter.domain.contract_csv import parse_contracts
    from callcenter.store import db, migrate
    from callcenter.store import repositories as repo

    url = f"sqlite:///{workdir / 'callcenter.db'}"
    engine = db.make_engine(url)
    migrate.upgrade(engine)
    text = shift_contracts(CONTRACTS.read_text(encoding="utf-8"), (day - ANCHOR).days)
    now = datetime.now(UTC)
    with db.transaction(db.sessions(engine)) as session:
        repo.import_contracts(session, parse_contracts(text), now)
        accounts.add_user(session, "op1", Role.OPERATOR, "op1", PASSWORD, now)
    engine.dispose()
    return url


def service_clock(choice: str, minutes: int) -> tuple[date, str | None]:
    """The day the contracts are moved to, and libfaketime's start (None: the real clock),
    so that the line is open for the whole run."""
    calendar = Calendar()
    now = datetime.now(UTC)
    open_now = calendar.is_working_time(now) and calendar.is_working_time(
        now + timedelta(minutes=minutes + 5)
    )
    if choice == "real" or (choice == "auto" and open_now):
        return warsaw(now).date(), None
    day = calendar.working_day_on_or_after(warsaw(now).date())
    if warsaw(now).hour >= 10 and day == warsaw(now).date():
        day = calendar.next_working_day(day)  # 10:00 of a later day, never of the past
    return day, f"{day.isoformat()} 10:00:00"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_for(what: str, check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not after {timeout:.0f} s")
        await asyncio.sleep(0.1)


def _accepts(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
        return True
    return False


def _in_log(log: Path, *needles: str) -> bool:
    text = log.read_text(errors="replace") if log.exists() else ""
    return all(n in text for n in needles)


async def start_server(
    procs: Procs, url: str, port: int, fake: str | None, workdir: Path, asterisk_log: Path
) -> Path:
    log = workdir / "serve.log"
    env = {
        **os.environ,
        "CALLCENTER_DATABASE_URL": url,
        "CALLCENTER_WEB_HOST": "127.0.0.1",
        "CALLCENTER_WEB_PORT": str(port),
        "CALLCENTER_ASTERISK_LOG_DIR": str(asterisk_log),
    }
    command = [sys.executable, PROCESSES, "serve"]
    if fake is not None:
        faketime = shutil.which("faketime")
        if faketime is None:
            raise RuntimeError("faketime is not installed: run scripts/setup")
        command = [faketime, "-f", f"@{fake}", *command]
        env.update(TZ="Europe/Warsaw", FAKETIME_DONT_FAKE_MONOTONIC="1")
    with log.open("ab") as out:
        process = await procs.start(*command, env=env, stdout=out, stderr=subprocess.STDOUT)

    def ready() -> bool:
        if process.returncode is not None:
            raise RuntimeError(f"the service exited: {log.read_text(errors='replace')[-2000:]}")
        return _in_log(log, "fastagi listening", "resync done") and _accepts(port)

    await wait_for("the service", ready, 60)
    return log


async def place_call(procs: Procs, number: str, name: str, hold: float, workdir: Path) -> Any:
    """One call from the carrier: queued, then abandoned after `hold` seconds."""
    out = (workdir / "callers.log").open("ab")
    try:
        return await procs.start(
            "sipp", ASTERISK_SIP, "-i", TRUNK_IP, "-sf", str(SIPP_DIR / "caller_abandon.xml"),
            "-s", SUPPORT_NUMBER, "-m", "1", "-d", str(round(hold * 1000)),
            "-key", "caller_number", number, "-key", "caller_name", name,
            "-rtp_echo", "-nostdin", "-timeout", f"{round(hold + 60)}s", "-timeout_error",
            cwd=workdir, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    finally:
        out.close()


async def one_call(
    i: int, procs: Procs, feeds: Feeds, page: Any, http: Any, hold: float, workdir: Path,
    readings: list[tuple[float, float]],
) -> Sample | None:  # fmt: skip
    number, name = CALLERS[i % len(CALLERS)]
    caller = await place_call(procs, number, name, hold, workdir)
    try:
        try:
            async with asyncio.timeout(30):
                linkedid = ""
                while not linkedid or linkedid in feeds.rung:  # a retry rings op1 again
                    linkedid, called, ami_seen = await feeds.called.get()
        except TimeoutError:
            print(f"  call {i}: no AgentCalled for op1 (see {workdir}/serve.log)", flush=True)
            return None
        feeds.rung.add(linkedid)
        sample = Sample(linkedid, called, ami_seen)
        got = await feeds.from_client("pop", linkedid)
        drawn = await feeds.from_page("pop", linkedid)
        if got is not None:
            sample.client, sample.size = got["t"], got["size"]
        sample.page = drawn
        await page_clock(page, readings)
        sample.trace = (await http.get(f"/bench/trace/{linkedid}")).json()
        answer = await http.post("/bench/send", params={"size": sample.size or 1000, "seq": i})
        sample.sent = answer.json()["sent"]
        bare = await feeds.from_client("bare", str(i))
        sample.bare_client = bare["t"] if bare else None
        sample.bare_page = await feeds.from_page("bare", str(i))
        return sample
    finally:
        if await asyncio.wait_for(caller.wait(), hold + 70) != 0:
            print(f"  call {i}: the caller's sipp failed (see {workdir}/callers.log)", flush=True)


async def calls(
    args: argparse.Namespace, procs: Procs, feeds: Feeds, page: Any, http: Any, workdir: Path
) -> None:
    """The calls, one after the other; the report."""
    readings: list[tuple[float, float]] = []
    samples: list[Sample] = []
    failed = 0
    for i in range(args.warmup + args.calls):
        sample = await one_call(i, procs, feeds, page, http, args.hold, workdir, readings)
        failed = 0 if sample is not None else failed + 1
        if failed == 3:
            raise RuntimeError(f"three calls in a row rang no op1: see {workdir}")
        if i >= args.warmup and sample is not None:
            samples.append(sample)
    report(samples, readings, args.calls, workdir / "samples.csv")


async def run(args: argparse.Namespace) -> None:
    import httpx

    from tests.integration.asterisk_harness import HarnessError, LocalAsterisk, Operator

    minutes = round((args.calls + args.warmup) * (args.hold + 2) / 60) + 1
    day, fake = service_clock(args.clock, minutes)
    asterisk = LocalAsterisk()
    was_running = asterisk.is_running()
    procs = Procs()
    workdir = ROOT / ".run" / "screen-pop"  # the logs stay there after the run
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    url = prepare(workdir, day)
    print(
        "service clock: "
        + (f"libfaketime from {fake} Warsaw (monotonic clock real)" if fake else "real")
        + f"; contracts moved to {day}",
        flush=True,
    )
    try:
        await asyncio.to_thread(asterisk.start)
    except HarnessError as exc:  # e.g. the chroot's mount still busy after an earlier run
        print(f"Asterisk did not start, trying once more: {exc}", flush=True)
        await asyncio.sleep(5)
        await asyncio.to_thread(asterisk.start)
    try:
        async with contextlib.AsyncExitStack() as stack:
            stack.push_async_callback(procs.stop_all)
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            log = await start_server(procs, url, port, fake, workdir, asterisk.log_dir)
            for n in (1, 2, 3):
                phone = Operator(n, "ring", run_dir=asterisk.run_dir).start()
                stack.callback(phone.stop)
            feeds = Feeds()
            ami_ready = asyncio.Event()
            ami = asyncio.create_task(watch_ami(feeds, ami_ready))
            stack.callback(ami.cancel)
            await asyncio.wait_for(ami_ready.wait(), 10)
            http = await stack.enter_async_context(httpx.AsyncClient(base_url=base))
            token = (await http.post(
                "/api/token", data={"username": "op1", "password": PASSWORD}
            )).json()["access_token"]  # fmt: skip
            watcher = await procs.start(
                sys.executable, PROCESSES, "client", base.replace("http", "ws"), token,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            )  # fmt: skip
            assert watcher.stdout is not None
            for _ in range(2):  # both sockets open
                await asyncio.wait_for(watcher.stdout.readline(), WAIT)
            reader = asyncio.create_task(read_client(watcher, feeds))
            stack.callback(reader.cancel)
            screen = operator_page(base, PASSWORD, feeds.page_saw, WAIT)
            page = await stack.enter_async_context(screen)
            print(f"service log: {log}; {args.warmup} warm-up calls, then {args.calls}",
                  flush=True)  # fmt: skip
            await calls(args, procs, feeds, page, http, workdir)
    finally:
        if not was_running:
            await asyncio.to_thread(asterisk.stop)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument(
        "--hold",
        type=float,
        default=14.0,
        help="s on the line per call: the queue's prompt and position announcement take "
        "about 11 s before the phones ring",
    )
    parser.add_argument(
        "--clock",
        choices=("auto", "real", "fake"),
        default="auto",
        help="the service's clock (auto: libfaketime only when the line is closed)",
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
