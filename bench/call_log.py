"""Benchmark: the manager's call log at a million calls, against an empty log, same run.

Run: `.venv/bin/python bench/call_log.py [--calls 1000000] [--no-postgres] [--repeat 20]`

Fills a fresh SQLite file and (unless --no-postgres) a PostgreSQL server the benchmark starts
on loopback with `--calls` calls over a year (a realistic mix: most calls in working hours
and put through, some closed, unknown, e-mail-only, expired or over the limit; answered,
abandoned and timed-out queue calls; one call in thirty an operator returning a callback;
eight operators; 5,000 contracts; rings, ticket drafts for answered calls, callbacks for missed
covered calls with their attempts), loaded by Core inserts in batches, then times, on the
full log and on an empty one (the baseline), through the code the API runs
(`callcenter.call_log_view`):

- the first page (50 newest calls, as `GET /api/calls` answers, rings included);
- a filtered page: one contract; one outcome over one month; one caller; the callbacks' calls;
- the 100th page, reached by keyset (99 pages walked first; only the 100th is timed);
- a call's page (`GET /api/calls/{id}`: the call, its rings, ticket, callback and timeline);
- the month's service-level report (every figure by day, operator and hour, and the 100
  contracts with the most calls, as the API answers it, from the per-day tallies built
  after the fill), of a whole past month (October 2026), with every contract (as the CSV),
  and of the month so far on its last day (November 1-30 at 16:00 on the 30th: the
  month's days' tallies, not its month's);
- the CSV export of every call: rows/s and the peak resident memory of a fresh process that
  runs only the export, at a tenth of the log and at all of it: constant memory shows as the
  same peak.

The filled database is settled first (SQLite's write-ahead log checkpointed, PostgreSQL
vacuumed and analysed), and timed from a fresh process, as a service reads a database whose
bulk load is over. p50/p99 of `--repeat` runs each. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from callcenter import call_log_view, report_render, service_levels
from callcenter.call_filters import LogQuery
from callcenter.domain.calendar import WARSAW
from callcenter.store import call_queries, db, migrate, report_tallies
from callcenter.store.models import (
    CallbackAttemptRow,
    CallbackRow,
    CallRingRow,
    CallRow,
    TicketRow,
)
from callcenter.web.api.tickets import ticket_json

T = TypeVar("T")
YEAR_START = datetime(2025, 12, 1, tzinfo=WARSAW)
DAYS = 365
OPERATORS = [f"op{i}" for i in range(1, 9)]
CONTRACTS = [f"K-{i:05d}" for i in range(1, 5001)]
ROUTES = [  # (route, reason, weight)
    ("queue", "covered", 70),
    ("queue", "ambiguous", 2),
    ("closed", "outside_hours", 8),
    ("closed", "weekend", 3),
    ("no_contract", "unknown_number", 6),
    ("email_only", "email_plan", 3),
    ("expired", "expired", 3),
    ("limit_reached", "answers_used", 3),
    ("anonymous", "withheld", 2),
]


def generate(count: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """Calls in arrival order, each with its rings, and its ticket draft (answered calls) or
    its callback and that callback's attempt (missed covered calls); one in thirty is an
    operator returning a callback (direction `callback`)."""
    rng = random.Random(seed)
    routes = [(r, why) for r, why, w in ROUTES for _ in range(w)]
    step = DAYS * 86400 / count
    callbacks = 0
    for i in range(count):
        arrived = (YEAR_START + timedelta(seconds=i * step + rng.random() * step)).astimezone(UTC)
        number = f"60{i % 10_000_000:07d}"
        call: dict[str, Any] = {
            "id": i + 1, "linkedid": f"{1764547200 + i}.{i}", "caller_raw": number,
            "caller_name": "", "caller_e164": f"+48{number}", "dialled": "800123456",
            "contract": None, "contracts": [], "route": None, "reason": None, "rule": "",
            "why": "", "covered": False, "arrived_at": arrived,
            "decided_at": arrived + timedelta(milliseconds=2), "decision_ms": 0.4,
            "state": "ended", "queued_at": None, "answered_at": None,
            "ended_at": arrived + timedelta(seconds=12), "wait_s": None, "talk_s": None,
            "operator": None, "outcome": "rejected", "hangup_cause": "Normal Clearing",
            "reconciled": "", "callback_id": None, "direction": "inbound",
            "queue_left_at": None, "queue_abandoned": False, "queue_status": "",
        }  # fmt: skip
        item: dict[str, Any] = {"call": call, "rings": [], "ticket": None, "callback": None}
        if rng.random() < 1 / 30:  # an operator returning a callback
            operator = rng.choice(OPERATORS)
            reached = rng.random() < 0.7
            talk = rng.expovariate(1 / 180) if reached else None
            call.update(
                direction="callback", decided_at=None, decision_ms=None, covered=True,
                contract=rng.choice(CONTRACTS), operator=operator,
                outcome="reached" if reached else "no_answer",
                answered_at=arrived + timedelta(seconds=8) if reached else None,
                ended_at=arrived + timedelta(seconds=8 + (talk or 22)), talk_s=talk,
            )  # fmt: skip
            item["rings"].append((0, operator, arrived, 3.0, "answered"))
            yield item
            continue
        route, reason = rng.choice(routes)
        contract = rng.choice(CONTRACTS) if route in ("queue", "closed", "limit_reached") else None
        call.update(
            route=route, reason=reason, rule=route, why=f"{route}/{reason}", contract=contract,
            contracts=[contract] if contract else [], covered=contract is not None,
        )  # fmt: skip
        if route == "queue":
            queued = arrived + timedelta(seconds=4)
            wait = rng.expovariate(1 / 18)
            fate = rng.random()
            first = rng.choice(OPERATORS)
            left = queued + timedelta(seconds=wait)
            call.update(queued_at=queued, wait_s=wait, queue_left_at=left)
            if fate < 0.8:
                talk = rng.expovariate(1 / 240)
                answered = queued + timedelta(seconds=wait)
                ended = answered + timedelta(seconds=talk)
                call.update(outcome="answered", operator=first, answered_at=answered,
                            ended_at=ended, talk_s=talk)  # fmt: skip
                item["rings"].append((0, first, queued, wait, "answered"))
                item["ticket"] = {
                    "status": "draft", "contract_id": None, "kind": "answer",
                    "received_at": answered, "call_id": i + 1, "operator": first,
                    "created_at": ended, "description": "", "site_url": "", "other_site": False,
                }  # fmt: skip
            else:
                abandoned = fate < 0.92
                call.update(
                    outcome="abandoned" if abandoned else "unanswered",
                    ended_at=queued + timedelta(seconds=wait), queue_abandoned=abandoned,
                    queue_status="" if abandoned else "TIMEOUT",
                )  # fmt: skip
                item["rings"].append((0, first, queued, min(wait, 15.0), "no_answer"))
        if contract and (call["outcome"] in ("abandoned", "unanswered") or route == "closed"):
            callbacks += 1
            call["callback_id"] = callbacks
            started = arrived + timedelta(hours=2)
            item["callback"] = {
                "id": callbacks, "caller_e164": call["caller_e164"], "contract": contract,
                "first_call_at": arrived, "last_call_at": arrived, "calls": 1,
                "due_at": arrived + timedelta(days=1), "done_at": started + timedelta(seconds=40),
                "created_at": call["ended_at"], "requested": False, "attempts": 1,
            }  # fmt: skip
            item["attempt"] = {
                "callback_id": callbacks, "operator": rng.choice(OPERATORS),
                "linkedid": f"cc-callback-{callbacks}", "started_at": started,
                "ended_at": started + timedelta(seconds=40), "result": "reached",
            }  # fmt: skip
        yield item


def fill(engine: Engine, count: int) -> float:
    """Bulk-load the calls, their rings, ticket drafts, callbacks and attempts with Core
    inserts (executemany, 20,000 calls a statement batch); seconds taken."""
    started = time.perf_counter()
    source = generate(count)
    with engine.begin() as connection:
        while chunk := list(islice(source, 20_000)):
            callbacks = [c["callback"] for c in chunk if c["callback"]]
            if callbacks:
                connection.execute(insert(CallbackRow), callbacks)
            connection.execute(insert(CallRow), [c["call"] for c in chunk])
            rings = [
                {"call_id": c["call"]["id"], "position": p, "endpoint": e, "started_at": at,
                 "seconds": secs, "result": result}
                for c in chunk for p, e, at, secs, result in c["rings"]
            ]  # fmt: skip
            connection.execute(insert(CallRingRow), rings)
            tickets = [c["ticket"] for c in chunk if c["ticket"]]
            if tickets:
                connection.execute(insert(TicketRow), tickets)
            attempts = [c["attempt"] for c in chunk if c.get("attempt")]
            if attempts:
                connection.execute(insert(CallbackAttemptRow), attempts)
        if engine.dialect.name == "postgresql":
            for table in ("calls", "callbacks", "tickets", "callback_attempts"):
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 1) FROM {table}))"
                    )
                )
    with engine.connect() as connection:
        connection.execute(text("ANALYZE"))
        connection.commit()
    return time.perf_counter() - started


# --- what is timed -------------------------------------------------------------------------


def first_page(engine: Engine, f: call_queries.CallFilter) -> int:
    """A page as `GET /api/calls` answers it (50 calls, rings included, the next cursor)."""
    with db.sessions(engine)() as session:
        return len(call_log_view.log_page(session, LogQuery(f, None, 50))["calls"])


def hundredth_page(engine: Engine) -> Callable[[], int]:
    with db.sessions(engine)() as session:
        cursor = None
        for _ in range(99):
            _, cursor = call_queries.page(session, call_queries.CallFilter(), cursor, 50)
            if cursor is None:
                break

    def run() -> int:
        with db.sessions(engine)() as session:
            query = LogQuery(call_queries.CallFilter(), cursor, 50)
            return len(call_log_view.log_page(session, query)["calls"])

    return run


def call_page(engine: Engine, call_id: int) -> int:
    """A call's entry as `GET /api/calls/{id}` builds it: timeline, ticket, callback."""
    with db.sessions(engine)() as session:
        found = call_log_view.call_detail(session, call_id, ticket_json)
        return 0 if found is None else len(found["timeline"])


def month_report(
    engine: Engine, first: date, last: date, now: datetime, contracts: int | None
) -> int:
    """A month's service-level report: every figure by day, operator and hour, and the
    `contracts` with the most calls (None: every contract, as the CSV has them), as
    `GET /api/reports/service-levels` computes them (the marked days built first: none
    after `rebuild_tallies`), before they are written as JSON."""
    span = service_levels.DateRange(first, last)
    report = service_levels.report(db.sessions(engine), span, now, contracts)
    return len(report.days) + len(report.contracts) + len(report.operators)


def month_report_json(engine: Engine, first: date, last: date, now: datetime) -> int:
    """The same, written as the API's JSON (a dict FastAPI serialises), its contracts the
    API's default number."""
    span = service_levels.DateRange(first, last)
    report = service_levels.report(db.sessions(engine), span, now, service_levels.CONTRACTS_SHOWN)
    return len(report_render.service_levels_json(report)["contracts"])


def rebuild_tallies(engine: Engine) -> float:
    """The service-level tallies of the filled log, built from it (as `callcenter reports
    rebuild` does after a bulk load); seconds taken."""
    started = time.perf_counter()
    report_tallies.rebuild(db.sessions(engine), datetime.now(UTC))
    return time.perf_counter() - started


def export(url: str, limit: int | None) -> tuple[int, float, int]:
    """(rows, seconds, peak resident memory in bytes) of the CSV export as
    `GET /api/calls.csv` streams it (the first `limit` rows, or all), run in a fresh process
    of its own: its peak memory is the export's, not the fill's."""
    return in_fresh_process(_export_here, url, limit)


def in_fresh_process(fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` in a process started afresh (spawned: none of this one's heap)."""
    spawn = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=spawn) as pool:
        return pool.submit(fn, *args).result()


def _export_here(url: str, limit: int | None) -> tuple[int, float, int]:
    engine = db.make_engine(url)
    try:
        started = time.perf_counter()
        lines = call_log_view.csv_lines(db.sessions(engine), call_queries.CallFilter())
        rows = sum(1 for _ in islice(lines, None if limit is None else limit + 1))
        took = time.perf_counter() - started
    finally:
        engine.dispose()
    return rows - 1, took, _peak_resident()


def _peak_resident() -> int:
    """This process's peak resident memory (VmHWM: its own, where getrusage's ru_maxrss
    keeps the parent's from before the exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    fn()  # warm
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(0.99 * len(samples)))]


def settle(engine: Engine) -> None:
    """The filled database as it is once a bulk load has settled: SQLite's write-ahead log
    checkpointed into the file (reads otherwise look every page up in a log of the whole
    fill), PostgreSQL's tables vacuumed and analysed (what autovacuum does soon after)."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as c:
            c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("VACUUM ANALYZE")


def _measure_here(name: str, full_url: str, empty_url: str, count: int, repeat: int) -> None:
    """`measure` in a fresh process (the service's, not the fill's, heap and connections)."""
    full, empty = db.make_engine(full_url), db.make_engine(empty_url)
    try:
        measure(name, full, empty, count, repeat)
    finally:
        full.dispose()
        empty.dispose()
    sys.stdout.flush()


def measure(name: str, full: Engine, empty: Engine, count: int, repeat: int) -> None:
    month = (date(2026, 10, 1), date(2026, 10, 31))  # a whole past month
    now = datetime.now(UTC)
    # November (the log's last month) as a manager sees it at 16:00 on its last day
    so_far = (date(2026, 11, 1), date(2026, 11, 30), datetime(2026, 11, 30, 16, tzinfo=WARSAW))
    shown = service_levels.CONTRACTS_SHOWN
    f_contract = call_queries.CallFilter(contract="K-00042")
    f_month = call_queries.CallFilter(
        outcome="abandoned",
        since=datetime(2026, 10, 1, tzinfo=WARSAW),
        until=datetime(2026, 11, 1, tzinfo=WARSAW),
    )
    f_caller = call_queries.CallFilter(number=f"+4860{count // 3 % 10_000_000:07d}")
    f_back = call_queries.CallFilter(direction="callback")
    cases: list[tuple[str, Callable[[Engine], Callable[[], object]]]] = [
        ("first page", lambda e: lambda: first_page(e, call_queries.CallFilter())),
        ("page: one contract", lambda e: lambda: first_page(e, f_contract)),
        ("page: abandoned in one month", lambda e: lambda: first_page(e, f_month)),
        ("page: one caller", lambda e: lambda: first_page(e, f_caller)),
        ("page: direction callback", lambda e: lambda: first_page(e, f_back)),
        ("100th page by keyset", hundredth_page),
        ("a call's page", lambda e: lambda: call_page(e, count // 2)),
        ("month's service-level report", lambda e: lambda: month_report(e, *month, now, shown)),
        ("  the same as JSON", lambda e: lambda: month_report_json(e, *month, now)),
        ("  every contract (as the CSV)", lambda e: lambda: month_report(e, *month, now, None)),
        ("month so far, on its last day", lambda e: lambda: month_report(e, *so_far, shown)),
        ("  the same as JSON", lambda e: lambda: month_report_json(e, *so_far)),
    ]
    print(f"\n{name}: {count:,} calls against an empty log ({repeat} runs each)")
    print(f"{'what':32} {'empty p50/p99 ms':>18} {'full p50/p99 ms':>18}")
    for label, make in cases:
        e50, e99 = timed(make(empty), repeat)
        f50, f99 = timed(make(full), repeat)
        print(f"{label:32} {e50:8.1f} /{e99:7.1f} {f50:8.1f} /{f99:7.1f}")
    for limit in (count // 10, None):
        rows, took, peak = export(full.url.render_as_string(hide_password=False), limit)
        print(
            f"CSV export of {rows:,} calls: {rows / took:,.0f} rows/s, "
            f"peak memory of the exporting process {peak / 1e6:.1f} MB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cc-bench-")))
        targets = {
            "SQLite": (f"sqlite:///{folder / 'full.db'}", f"sqlite:///{folder / 'empty.db'}")
        }
        if not args.no_postgres:
            import psycopg

            from tests.conftest import start_postgres  # the same server the tests start

            server = start_postgres()
            base = next(server)
            stack.callback(lambda: next(server, None))
            with psycopg.connect(f"{base.replace('+psycopg', '')}/postgres", autocommit=True) as c:
                c.execute("CREATE DATABASE full_log")
                c.execute("CREATE DATABASE empty_log")
            targets["PostgreSQL"] = (f"{base}/full_log", f"{base}/empty_log")
        for name, (full_url, empty_url) in targets.items():
            full, empty = db.make_engine(full_url), db.make_engine(empty_url)
            migrate.upgrade(full)
            migrate.upgrade(empty)
            took = fill(full, args.calls)
            print(f"{name}: filled {args.calls:,} calls in {took:.1f} s")
            print(f"{name}: service-level tallies built in {rebuild_tallies(full):.1f} s")
            settle(full)
            full.dispose()
            empty.dispose()
            in_fresh_process(_measure_here, name, full_url, empty_url, args.calls, args.repeat)


if __name__ == "__main__":
    main()
