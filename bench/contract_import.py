"""Benchmark: `callcenter contracts import` of a large file, beside a bare executemany.

Run: `.venv/bin/python bench/contract_import.py [--rows 100000] [--rounds 3] [--no-postgres]`

In one run, for SQLite (a file) and PostgreSQL (a server the benchmark starts), each round
on a new empty database: the real command (`callcenter contracts import FILE`, a process of
its own: interpreter start, reading, checking every row while a second process writes them
in one transaction: callcenter/contract_file.py) timed from start to exit, with the CPU time
of both; the same command again on the same file (every row unchanged: a no-op); and, as the
floor, a bare executemany of the same rows (customers, contracts, phones, audit entries:
what the import writes) by the driver in one transaction, with the values already in the
driver's form. Also the two parts one after the other in this process (checking the file,
then writing it). Prints seconds and rows/s of each, and the ratios to the floor. Nothing
is asserted.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Generator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from callcenter.domain.contract_csv import COLUMNS, decode_csv, parse_contracts
from callcenter.store import db, migrate
from callcenter.store import repositories as repo

CALLCENTER = str(Path(sys.executable).with_name("callcenter"))
PLANS = ("phone", "phone", "professional", "email")


def csv_text(rows: int) -> str:
    """`rows` contracts; every tenth also names its predecessor's phone (a shared number)."""
    lines = [",".join(COLUMNS)]
    for i in range(1, rows + 1):
        phones = f"+4860{i:07d}" + (f";+4860{i - 1:07d}" if i % 10 == 0 else "")
        lines.append(
            f"CC-{i:06d},Klient {i},{PLANS[i % 4]},yearly,2026-01-01,2026-12-31,SmodCMS,"
            f"https://s{i}.example.pl,{phones},k{i}@example.pl,2025-12-20T10:00:00,"
        )
    return "\n".join(lines) + "\n"


def command(url: str, file: Path) -> tuple[float, str]:
    """The real command, start to exit; its output's last line (with its CPU time)."""
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    # As an installed program runs: Python keeps its modules' byte code (a sandbox may set
    # PYTHONDONTWRITEBYTECODE, and every run would compile the modules anew).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(
        [CALLCENTER, "contracts", "import", str(file)],
        env={**env, "CALLCENTER_DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
    return took, f"{done.stdout.strip().splitlines()[-1]} [CPU {used:.2f} s]"


def phases(url: str, data: bytes) -> tuple[float, float]:
    """The command's two parts one after the other in this process: checking the file,
    writing it (the command does both at once)."""
    started = time.perf_counter()
    contracts = parse_contracts(decode_csv(data))
    checked = time.perf_counter()
    engine = db.make_engine(url)
    with db.transaction(db.sessions(engine)) as session:
        repo.import_contracts(session, contracts, datetime.now(UTC))
    engine.dispose()
    return checked - started, time.perf_counter() - checked


def bare(url: str, rows: int) -> float:
    """The floor: the same rows written by the driver's executemany, values prepared."""
    engine = db.make_engine(url)
    now = datetime.now(UTC)
    sqlite = engine.dialect.name == "sqlite"
    stamp: Any = now.replace(tzinfo=None).isoformat(" ") if sqlite else now
    paid: tuple[Any, Any] = ("2026-01-01", "2026-12-31")
    if not sqlite:
        paid = (date(2026, 1, 1), date(2026, 12, 31))
    mark = "?" if sqlite else "%s"

    def sql(table: str, columns: str) -> str:
        count = len(columns.split(","))
        return f"INSERT INTO {table} ({columns}) VALUES ({', '.join([mark] * count)})"

    ids = range(1, rows + 1)
    with engine.begin() as connection:
        started = time.perf_counter()
        cursor: Any = connection.connection.cursor()
        cursor.executemany(sql("customers", "id, name"), [(i, f"Klient {i}") for i in ids])
        cursor.executemany(
            sql(
                "contracts",
                "id, number, customer_id, plan, billing, paid_from, paid_until, product, "
                "site_url, email, accepted_at, accepted_via, daily_units, updated_at",
            ),
            [
                (i, f"CC-{i:06d}", i, PLANS[i % 4], "yearly", *paid, "SmodCMS",
                 f"https://s{i}.example.pl", f"k{i}@example.pl", stamp, "order", None, stamp)
                for i in ids
            ],
        )  # fmt: skip
        cursor.executemany(
            sql("contract_phones", "contract_id, e164, position"),
            [(i, f"+4860{i:07d}", 0) for i in ids]
            + [(i, f"+4860{i - 1:07d}", 1) for i in ids if i % 10 == 0],
        )
        cursor.executemany(
            sql("audit", "at, actor, action, subject, detail"),
            [(stamp, "cli", "contract.create", f"CC-{i:06d}", "") for i in ids],
        )
        took = time.perf_counter() - started
    engine.dispose()
    return took


def fresh_sqlite(tmp: Path) -> Iterator[str]:
    for n in range(1_000_000):
        url = f"sqlite:///{tmp / f'import{n}.db'}"
        migrate.upgrade(db.make_engine(url))
        yield url


def fresh_postgres(base: str) -> Iterator[str]:
    import psycopg

    for n in range(1_000_000):
        with psycopg.connect(f"{base.replace('+psycopg', '')}/postgres", autocommit=True) as c:
            c.execute(f"CREATE DATABASE import{n}")
        url = f"{base}/import{n}"
        engine = db.make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url


def measure(name: str, fresh: Iterator[str], file: Path, args: argparse.Namespace) -> None:
    data = file.read_bytes()
    rate: Callable[[float], str] = lambda s: f"{s:6.2f} s {args.rows / s:8,.0f}/s"  # noqa: E731
    print(f"{name}: {args.rows:,} rows")
    for r in range(args.rounds):
        first, said = command(next(fresh), file)
        url = next(fresh)
        command(url, file)
        again, said_again = command(url, file)
        check, write = phases(next(fresh), data)
        floor = bare(next(fresh), args.rows)
        print(
            f"  round {r + 1}: import {rate(first)} ({first / floor:.1f}x) | again (no-op) "
            f"{rate(again)} | bare executemany {rate(floor)} | one after the other, in "
            f"process: checking {check:.2f} s, writing {write:.2f} s "
            f"({write / floor:.1f}x the bare executemany)"
        )
        if r == 0:
            print(f"    the command said: {said!r}; again: {said_again!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "contracts.csv"
        file.write_text(csv_text(args.rows), encoding="utf-8")
        if not args.no_sqlite:
            measure("SQLite", fresh_sqlite(Path(tmp)), file, args)
        if not args.no_postgres:
            from tests.conftest import start_postgres  # the same server the tests start

            server = start_postgres()
            assert isinstance(server, Generator)  # closing it stops the server
            try:
                measure("PostgreSQL", fresh_postgres(next(server)), file, args)
            finally:
                server.close()
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
