"""Benchmark: the routing decision on 100,000 contracts, as a ratio to an empty table.

Run: `.venv/bin/python bench/route_scale.py [--contracts 100000] [--calls 300]`

Builds two SQLite files in a temporary directory: one with N contracts (with phones, some
tickets, a closure and a consolidation), one with the schema only. Then times, in the same
run, what `callcenter route NUMBER --json` does for one call after the interpreter has started
(open the database, check the schema, gather the inputs, decide, render JSON), for callers who
are customers and callers who are not. Reports p50/p99 per call and the ratio to the empty
table. Nothing is asserted: numbers are for reading.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import insert

from callcenter.domain.calendar import WARSAW
from callcenter.render import decision_json
from callcenter.services import route_call
from callcenter.store import db, migrate
from callcenter.store.models import (
    ClosureRow,
    ConsolidationRow,
    ContractPhone,
    ContractRow,
    Customer,
    TicketRow,
)

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=WARSAW)


def phone(i: int) -> str:
    return f"+4860{i:07d}"


def populate(url: str, n: int) -> None:
    engine = db.make_engine(url)
    migrate.upgrade(engine)
    stamp = datetime.now(UTC)
    plans = ["phone", "phone", "professional", "email"]
    with engine.begin() as c:
        c.execute(
            insert(ClosureRow),
            [
                {
                    "first_day": date(2026, 8, 3),
                    "last_day": date(2026, 8, 14),
                    "note": "summer",
                    "created_at": stamp,
                }
            ],
        )
        for start in range(0, n, 10_000):
            ids = range(start + 1, min(start + 10_000, n) + 1)
            c.execute(insert(Customer), [{"id": i, "name": f"Klient {i}"} for i in ids])
            c.execute(
                insert(ContractRow),
                [
                    {
                        "id": i,
                        "number": f"CC-{i:06d}",
                        "customer_id": i,
                        "plan": plans[i % 4],
                        "billing": "yearly",
                        "paid_from": date(2026, 1, 1),
                        "paid_until": date(2026, 12, 31),
                        "product": "SmodCMS",
                        "site_url": f"https://s{i}.example.pl",
                        "email": f"k{i}@example.pl",
                        "accepted_at": stamp,
                        "accepted_via": "order",
                        "daily_units": None,
                        "updated_at": stamp,
                    }
                    for i in ids
                ],
            )
            # Every tenth contract also names its predecessor's number (the ambiguous case).
            c.execute(
                insert(ContractPhone),
                [{"contract_id": i, "e164": phone(i), "position": 0} for i in ids]
                + [
                    {"contract_id": i, "e164": phone(i - 1), "position": 1}
                    for i in ids
                    if i % 10 == 0
                ],
            )
            c.execute(
                insert(TicketRow),
                [
                    {
                        "contract_id": i,
                        "kind": "answer",
                        "received_at": NOW.replace(hour=8),
                        "answered_at": NOW.replace(hour=9),
                        "description": "",
                        "site_url": "",
                        "other_site": False,
                        "created_at": stamp,
                    }
                    for i in ids
                    if i % 3 == 0
                ],
            )
            c.execute(
                insert(ConsolidationRow),
                [
                    {
                        "contract_id": i,
                        "day": date(2026, 11, 23),
                        "days": 2,
                        "note": "",
                        "created_at": stamp,
                    }
                    for i in ids
                    if i % 50 == 0
                ],
            )
    engine.dispose()


def one_call(url: str, caller: str) -> float:
    started = time.perf_counter()
    engine = db.make_engine(url)
    migrate.require_schema(engine)
    with db.sessions(engine)() as session:
        json.dumps(decision_json(route_call(session, caller, NOW, "PL")))
    engine.dispose()
    return time.perf_counter() - started


def measure(url: str, callers: list[str]) -> list[float]:
    """As the CLI decides, minus interpreter start: each call opens the database anew.

    The CLI runs each call in a fresh process, with no garbage of earlier calls to collect;
    here the garbage is collected between calls, outside the timing.
    """
    one_call(url, callers[0])  # warm imports and caches
    times = []
    for caller in callers:
        gc.collect()
        times.append(one_call(url, caller))
    return times


def measure_warm(url: str, callers: list[str]) -> list[float]:
    """As a long-running service decides: one engine, a session per call."""
    engine = db.make_engine(url)
    factory = db.sessions(engine)
    times = []
    for caller in [callers[0], *callers]:
        started = time.perf_counter()
        with factory() as session:
            route_call(session, caller, NOW, "PL")
        times.append(time.perf_counter() - started)
    engine.dispose()
    return times[1:]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        full, empty = f"sqlite:///{Path(tmp) / 'full.db'}", f"sqlite:///{Path(tmp) / 'empty.db'}"
        t = time.perf_counter()
        populate(full, args.contracts)
        print(f"populated {args.contracts} contracts in {time.perf_counter() - t:.1f} s")
        populate(empty, 0)
        callers = [
            phone(rng.randint(1, args.contracts)) if i % 4 else "+48699000000"
            for i in range(args.calls)
        ]
        runs = {
            "cli (open database, check schema, decide, JSON)": (
                measure(empty, callers),
                measure(full, callers),
            ),
            "service (warm engine, a session per call)": (
                measure_warm(empty, callers),
                measure_warm(full, callers),
            ),
        }
    for kind, (base, loaded) in runs.items():
        print(kind)
        for name, values in (("empty table", base), (f"{args.contracts} contracts", loaded)):
            print(
                f"  {name:>18}: p50 {pct(values, 0.5):6.2f} ms  p99 {pct(values, 0.99):6.2f} ms"
                f"  mean {statistics.mean(values) * 1000:6.2f} ms"
            )
        print(
            f"  ratio (full / empty): p50 {pct(loaded, 0.5) / pct(base, 0.5):.2f}x  "
            f"p99 {pct(loaded, 0.99) / pct(base, 0.99):.2f}x"
        )


if __name__ == "__main__":
    main()
