"""Benchmark: the manager's call log at a million calls, against an empty log, same run.

Run: `.venv/bin/python bench/call_log.py [--calls 1000000] [--no-postgres] [--repeat 20]`

Fills a fresh SQLite file and (unless --no-postgres) a PostgreSQL server the benchmark starts
on loopback with `--calls` calls over a year (a realistic mix: most calls in working hours
and put through, some closed, unknown, e-mail-only, expired or over the limit; answered,
abandoned and timed-out queue calls; eight operators; 5,000 contracts; rings, ticket drafts
for answered calls and callbacks for missed covered calls), then times, on the full log and on
an empty one (the baseline):

- the first page (50 newest calls, as the page shows them, rings included);
- a filtered page: one contract; one outcome over one month;
- the 100th page, reached by keyset (99 pages walked first; only the 100th is timed);
- a call's page (the call, its rings, its ticket and callback);
- the month's service-level report (every figure by day, operator, contract, hour, as the
  API answers it, from the per-day tallies built after the fill);
- the CSV export of every call: rows/s and the peak of Python's allocations (tracemalloc),
  at a tenth of the log and at all of it: constant memory shows as the same peak.

p50/p99 of `--repeat` runs each. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from callcenter import csv_export, render, report_render, service_levels
from callcenter.domain.calendar import WARSAW
from callcenter.store import call_log, call_queries, db, migrate, report_tallies

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
CALL_COLUMNS = (
    "id", "linkedid", "caller_raw", "caller_name", "caller_e164", "dialled", "contract",
    "contracts", "route", "reason", "covered", "arrived_at", "decided_at", "decision_ms",
    "state", "queued_at", "answered_at", "ended_at", "wait_s", "talk_s", "operator", "outcome",
    "hangup_cause", "reconciled", "callback_id",
)  # fmt: skip


def generate(count: int, seed: int = 7) -> Iterator[tuple[dict[str, Any], list[tuple[Any, ...]]]]:
    """Calls in arrival order, each with its rings (position, endpoint, start, secs, result)."""
    rng = random.Random(seed)
    routes = [(r, why) for r, why, w in ROUTES for _ in range(w)]
    step = DAYS * 86400 / count
    for i in range(count):
        arrived = (YEAR_START + timedelta(seconds=i * step + rng.random() * step)).astimezone(UTC)
        route, reason = rng.choice(routes)
        contract = rng.choice(CONTRACTS) if route in ("queue", "closed", "limit_reached") else None
        row: dict[str, Any] = {
            "id": i + 1, "linkedid": f"{1764547200 + i}.{i}",
            "caller_raw": f"60{i % 10_000_000:07d}", "caller_name": "",
            "caller_e164": f"+4860{i % 10_000_000:07d}", "dialled": "800123456",
            "contract": contract, "contracts": contract or "", "route": route, "reason": reason,
            "covered": contract is not None, "arrived_at": arrived,
            "decided_at": arrived + timedelta(milliseconds=2), "decision_ms": 0.4,
            "state": "ended", "queued_at": None, "answered_at": None, "ended_at": None,
            "wait_s": None, "talk_s": None, "operator": None, "outcome": "rejected",
            "hangup_cause": "Normal Clearing", "reconciled": "", "callback_id": None,
        }  # fmt: skip
        rings: list[tuple[Any, ...]] = []
        if route == "queue":
            queued = arrived + timedelta(seconds=4)
            wait = rng.expovariate(1 / 18)
            fate = rng.random()
            first = rng.choice(OPERATORS)
            if fate < 0.8:
                talk = rng.expovariate(1 / 240)
                answered = queued + timedelta(seconds=wait)
                row.update(
                    outcome="answered", operator=first, answered_at=answered,
                    ended_at=answered + timedelta(seconds=talk), talk_s=talk,
                )  # fmt: skip
                rings.append((0, first, queued, wait, "answered"))
            else:
                row.update(outcome="abandoned" if fate < 0.92 else "unanswered")
                row["ended_at"] = queued + timedelta(seconds=wait)
                rings.append((0, first, queued, min(wait, 15.0), "no_answer"))
            row.update(queued_at=queued, wait_s=wait)
        row["ended_at"] = row["ended_at"] or arrived + timedelta(seconds=12)
        yield row, rings


def fill(engine: Engine, count: int) -> float:
    """Bulk-load the calls, their rings, ticket drafts and callbacks; seconds taken."""
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        if engine.dialect.name == "postgresql":
            _fill_postgres(raw, count)
        else:
            _fill_sqlite(raw, count)
        raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - started


def _sqlite_time(moment: datetime | None) -> str | None:
    # UTCDateTime on SQLite: naive UTC in SQLAlchemy's storage format
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _rows(count: int, stamp: Callable[[datetime | None], Any]) -> Iterator[tuple[list, ...]]:  # type: ignore[type-arg]
    for row, rings in generate(count):
        call = [stamp(v) if isinstance(v, datetime) else v for v in (row[c] for c in CALL_COLUMNS)]
        ring_rows = [(row["id"], p, e, stamp(s), secs, r) for p, e, s, secs, r in rings]
        ticket = None
        callback = None
        if row["outcome"] == "answered":
            ticket = ("draft", None, "answer", stamp(row["answered_at"]), row["id"],
                      row["operator"], stamp(row["ended_at"]), "", "", False)  # fmt: skip
        elif row["outcome"] in ("abandoned", "unanswered") and row["contract"]:
            due = row["arrived_at"] + timedelta(days=1)
            first = stamp(row["arrived_at"])
            callback = (
                row["id"], row["caller_e164"], row["contract"], first, first, 1, stamp(due),
                None, stamp(row["ended_at"]),
            )  # fmt: skip
        yield call, ring_rows, [ticket] if ticket else [], [callback] if callback else []


_CALLBACK_COLS = (
    "id, caller_e164, contract, first_call_at, last_call_at, calls, due_at, done_at, created_at"
)
_TICKET_COLS = "status, contract_id, kind, received_at, call_id, operator, created_at, description, site_url, other_site"  # noqa: E501


def _fill_sqlite(raw: Any, count: int) -> None:
    cursor = raw.cursor()
    marks = ",".join("?" * len(CALL_COLUMNS))
    source = _rows(count, _sqlite_time)
    while True:
        chunk = list(islice(source, 20_000))
        if not chunk:
            return
        cursor.executemany(
            f"INSERT INTO callbacks ({_CALLBACK_COLS}) VALUES (?,?,?,?,?,?,?,?,?)",
            [cb for _, _, _, cbs in chunk for cb in cbs],
        )
        calls = [c for c, _, _, _ in chunk]
        for call, (_, _, _, cbs) in zip(calls, chunk, strict=True):
            if cbs:
                call[CALL_COLUMNS.index("callback_id")] = cbs[0][0]
        cursor.executemany(f"INSERT INTO calls ({','.join(CALL_COLUMNS)}) VALUES ({marks})", calls)
        cursor.executemany(
            "INSERT INTO call_rings (call_id, position, endpoint, started_at, seconds, result) "
            "VALUES (?,?,?,?,?,?)",
            [r for _, rings, _, _ in chunk for r in rings],
        )
        cursor.executemany(
            f"INSERT INTO tickets ({_TICKET_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [t for _, _, tickets, _ in chunk for t in tickets],
        )


def _fill_postgres(raw: Any, count: int) -> None:
    cursor = raw.cursor()
    calls, rings, tickets, callbacks = [], [], [], []
    for call, ring_rows, ts, cbs in _rows(count, lambda m: m):
        if cbs:
            call[CALL_COLUMNS.index("callback_id")] = cbs[0][0]
            callbacks += cbs
        calls.append(call)
        rings += ring_rows
        tickets += ts
    for table, columns, rows in (
        ("callbacks", _CALLBACK_COLS, callbacks),
        ("calls", ",".join(CALL_COLUMNS), calls),
        ("call_rings", "call_id, position, endpoint, started_at, seconds, result", rings),
        ("tickets", _TICKET_COLS, tickets),
    ):
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    for table in ("calls", "callbacks", "tickets"):
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT coalesce(max(id), 1) FROM {table}))"
        )
    cursor.execute("ANALYZE")


# --- what is timed -------------------------------------------------------------------------


def first_page(engine: Engine, f: call_queries.CallFilter) -> int:
    with db.sessions(engine)() as session:
        rows, _ = call_queries.page(session, f, None, 50)
        return len([render.call_json(r) for r in rows])


def hundredth_page(engine: Engine) -> Callable[[], int]:
    with db.sessions(engine)() as session:
        cursor = None
        for _ in range(99):
            _, cursor = call_queries.page(session, call_queries.CallFilter(), cursor, 50)
            if cursor is None:
                break

    def run() -> int:
        with db.sessions(engine)() as session:
            rows, _ = call_queries.page(session, call_queries.CallFilter(), cursor, 50)
            return len([render.call_json(r) for r in rows])

    return run


def call_page(engine: Engine, key: str) -> int:
    with db.sessions(engine)() as session:
        row = call_log.call_row(session, key)
        return 0 if row is None else len(render.call_json(row))


def month_report(engine: Engine, first: date, last: date) -> int:
    """The month's service-level report: every figure by day, operator, contract and hour,
    as `GET /api/reports/service-levels` computes them (the marked days built first: none
    after `rebuild_tallies`), before they are written as JSON."""
    span = service_levels.DateRange(first, last)
    report = service_levels.report(db.sessions(engine), span, datetime.now(UTC))
    return len(report.days) + len(report.contracts) + len(report.operators)


def month_report_json(engine: Engine, first: date, last: date) -> int:
    """The same, written as the API's JSON (a dict FastAPI serialises)."""
    span = service_levels.DateRange(first, last)
    report = service_levels.report(db.sessions(engine), span, datetime.now(UTC))
    return len(report_render.service_levels_json(report)["contracts"])


def rebuild_tallies(engine: Engine) -> float:
    """The service-level tallies of the filled log, built from it (as `callcenter reports
    rebuild` does after a bulk load); seconds taken."""
    started = time.perf_counter()
    report_tallies.rebuild(db.sessions(engine), datetime.now(UTC))
    return time.perf_counter() - started


def export(engine: Engine, limit: int | None) -> tuple[int, float, int]:
    """(rows, seconds, peak bytes of Python allocations) of the CSV export."""
    tracemalloc.start()
    started = time.perf_counter()
    rows = 0
    with db.sessions(engine)() as session:
        calls = (
            render.call_json(r) for r in call_queries.stream(session, call_queries.CallFilter())
        )
        header = ["id", "arrived", "caller", "route", "reason", "outcome", "operator", "wait"]
        cells = ([c["id"], c["arrived"], c["caller"], c["route"], c["reason"], c["outcome"],
                  c["operator"], c["wait_seconds"]] for c in islice(calls, limit))  # fmt: skip
        for _line in csv_export.lines(header, cells):
            rows += 1
    took = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return rows - 1, took, peak


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    fn()  # warm
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(0.99 * len(samples)))]


def measure(name: str, full: Engine, empty: Engine, count: int, repeat: int) -> None:
    month = (date(2026, 10, 1), date(2026, 10, 31))
    f_contract = call_queries.CallFilter(contract="K-00042")
    f_month = call_queries.CallFilter(
        outcome="abandoned",
        since=datetime(2026, 10, 1, tzinfo=WARSAW),
        until=datetime(2026, 11, 1, tzinfo=WARSAW),
    )
    cases: list[tuple[str, Callable[[Engine], Callable[[], object]]]] = [
        ("first page", lambda e: lambda: first_page(e, call_queries.CallFilter())),
        ("page: one contract", lambda e: lambda: first_page(e, f_contract)),
        ("page: abandoned in one month", lambda e: lambda: first_page(e, f_month)),
        ("100th page by keyset", hundredth_page),
        ("a call's page", lambda e: lambda: call_page(e, str(count // 2))),
        ("month's service-level report", lambda e: lambda: month_report(e, *month)),
        ("  the same as JSON", lambda e: lambda: month_report_json(e, *month)),
    ]
    print(f"\n{name}: {count:,} calls against an empty log ({repeat} runs each)")
    print(f"{'what':32} {'empty p50/p99 ms':>18} {'full p50/p99 ms':>18}")
    for label, make in cases:
        e50, e99 = timed(make(empty), repeat)
        f50, f99 = timed(make(full), repeat)
        print(f"{label:32} {e50:8.1f} /{e99:7.1f} {f50:8.1f} /{f99:7.1f}")
    for limit in (count // 10, None):
        rows, took, peak = export(full, limit)
        print(
            f"CSV export of {rows:,} calls: {rows / took:,.0f} rows/s, "
            f"peak Python allocations {peak / 1e6:.1f} MB"
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
            measure(name, full, empty, args.calls, args.repeat)
            full.dispose()
            empty.dispose()


if __name__ == "__main__":
    main()
