"""The contract import's chunked writes (store/contract_import.py) against a real SQLite file
and a real PostgreSQL server: files larger than a chunk, changes spread over the chunks,
phones replaced, customers moved, the routing change, the progress, all or nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from callcenter.domain.contract_csv import COLUMNS, parse_contracts
from callcenter.domain.contracts import Contract
from callcenter.domain.terms import Plan
from callcenter.store import db, migrate
from callcenter.store import repositories as repo
from callcenter.store.bulk import IN, IN_MARK, Bulk
from callcenter.store.contract_import import CHUNK, ImportResult
from callcenter.store.models import AuditRow, ContractPhone, ContractRow, Customer, RoutingChangeRow

WARSAW = ZoneInfo("Europe/Warsaw")
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=WARSAW)
LATER = datetime(2026, 11, 25, 9, 0, tzinfo=WARSAW)
CALLCENTER = str(Path(sys.executable).with_name("callcenter"))


def csv_text(rows: int, bad_line: int | None = None) -> str:
    """`rows` contracts (line n + 1 holds contract n); `bad_line` with a date that is not one."""
    lines = [",".join(COLUMNS)]
    for i in range(1, rows + 1):
        until = "2026-13-01" if i + 1 == bad_line else "2026-12-31"
        phones = f"+4860{i:07d}" + (f";60{i - 1:07d}" if i % 10 == 0 else "")
        lines.append(
            f"N-{i:06d},Klient {i % 700},phone,yearly,2026-01-01,{until},SmodCMS,"
            f"https://s{i}.example.pl,{phones},k{i}@example.pl,2025-12-20T10:00:00,"
        )
    return "\n".join(lines) + "\n"


def _import(engine: Engine, contracts: list[Contract], now: datetime) -> ImportResult:
    with db.transaction(db.sessions(engine)) as session:
        return repo.import_contracts(session, contracts, now)


def _count(session: Session, row: type) -> int:
    return session.scalar(select(func.count()).select_from(row)) or 0


def test_a_file_of_several_chunks_is_created_then_left_alone(engine: Engine) -> None:
    contracts = parse_contracts(csv_text(2 * CHUNK + 500))
    seen: list[int] = []
    with db.transaction(db.sessions(engine)) as session:
        first = repo.import_contracts(session, contracts, NOW, progress=seen.append)
    assert (first.created, first.updated, first.unchanged) == (len(contracts), 0, 0)
    assert seen == [CHUNK, CHUNK, 500]
    again = _import(engine, contracts, LATER)
    assert (again.created, again.updated, again.unchanged) == (0, 0, len(contracts))
    with db.sessions(engine)() as s:
        assert _count(s, ContractRow) == len(contracts)
        assert _count(s, Customer) == 700  # customers named by many contracts, once each
        assert _count(s, ContractPhone) == len(contracts) + len(contracts) // 10
        assert _count(s, AuditRow) == len(contracts)  # the no-op wrote nothing
        assert _count(s, RoutingChangeRow) == 1  # one change for the import; none for the no-op
        assert repo.contracts(s) == sorted(contracts, key=lambda c: c.number)
        stamp = s.scalar(select(func.max(ContractRow.updated_at)))
        assert stamp == NOW  # the no-op touched no row


def test_changed_rows_across_chunks_are_updated_and_phones_replaced(engine: Engine) -> None:
    contracts = parse_contracts(csv_text(2 * CHUNK + 10))
    _import(engine, contracts, NOW)
    edited = list(contracts)
    # In the first, second and third chunk: a plan, phones replaced (and one shared number
    # given up), a customer moved to an existing one, and to a new one.
    edited[3] = replace(contracts[3], plan=Plan.EMAIL)
    edited[CHUNK + 7] = replace(contracts[CHUNK + 7], phones=("+48221234567",))
    edited[2 * CHUNK + 1] = replace(contracts[2 * CHUNK + 1], customer="Klient 5")
    edited[2 * CHUNK + 2] = replace(contracts[2 * CHUNK + 2], customer="Nowy Klient")
    edited[9] = replace(contracts[9], phones=(contracts[9].phones[1], contracts[9].phones[0]))
    result = _import(engine, edited, LATER)
    assert (result.created, result.updated, result.unchanged) == (0, 5, len(edited) - 5)
    with db.sessions(engine)() as s:
        assert repo.contract(s, contracts[3].number).plan is Plan.EMAIL
        assert repo.contract(s, contracts[CHUNK + 7].number).phones == ("+48221234567",)
        assert repo.contracts_for_phone(s, contracts[CHUNK + 7].phones[0]) == []
        assert repo.contract(s, contracts[9].number).phones == edited[9].phones  # in order
        assert repo.contract(s, contracts[2 * CHUNK + 1].number).customer == "Klient 5"
        assert repo.contract(s, contracts[2 * CHUNK + 2].number).customer == "Nowy Klient"
        assert _count(s, Customer) == 701
        assert repo.contracts(s) == sorted(edited, key=lambda c: c.number)
        updates = s.scalars(
            select(AuditRow.subject).where(AuditRow.action == "contract.update")
        ).all()
        assert sorted(updates) == sorted(
            edited[i].number for i in (3, 9, CHUNK + 7, 2 * CHUNK + 1, 2 * CHUNK + 2)
        )
        changes = s.execute(select(RoutingChangeRow.contract, RoutingChangeRow.at)).all()
        assert [(c, at) for c, at in changes] == [(None, NOW), (None, LATER)]
        moved = s.scalar(
            select(ContractRow.updated_at).where(ContractRow.number == contracts[3].number)
        )
        assert moved == LATER


def test_new_and_changed_contracts_in_one_file(engine: Engine) -> None:
    contracts = parse_contracts(csv_text(30))
    _import(engine, contracts[:20], NOW)
    edited = [
        *contracts[:19],
        replace(contracts[19], paid_until=date(2027, 1, 31)),
        *contracts[20:],
    ]
    result = _import(engine, edited, LATER)
    assert (result.created, result.updated, result.unchanged) == (10, 1, 19)
    with db.sessions(engine)() as s:
        assert repo.contract(s, contracts[19].number).paid_until == date(2027, 1, 31)
        assert repo.contracts(s) == edited


def test_a_number_given_twice_is_refused_and_nothing_is_written(engine: Engine) -> None:
    contracts = parse_contracts(csv_text(3))
    with pytest.raises(ValueError, match="given twice"):
        _import(engine, [*contracts, replace(contracts[0], plan=Plan.EMAIL)], NOW)
    with db.sessions(engine)() as s:
        assert _count(s, ContractRow) == 0


def test_a_write_that_fails_late_leaves_nothing(engine: Engine) -> None:
    """All or nothing in the store too: a row the database refuses in the last chunk (a
    phone named twice, which the file check would have merged) undoes them all."""
    contracts = parse_contracts(csv_text(CHUNK + 5))
    twice = (contracts[-1].phones[0], contracts[-1].phones[0])
    contracts[-1] = replace(contracts[-1], phones=twice)
    with pytest.raises(IntegrityError):
        _import(engine, contracts, NOW)
    with db.sessions(engine)() as s:
        assert _count(s, ContractRow) == 0
        assert _count(s, Customer) == 0
        assert _count(s, RoutingChangeRow) == 0


def test_a_bad_line_near_the_end_of_a_large_file_imports_nothing(
    database_url: str, tmp_path: Path
) -> None:
    """Through the real command: line 99,999 of 100,000 is named, and nothing is imported
    (not the 99,997 good rows before it)."""
    engine = db.make_engine(database_url)
    migrate.upgrade(engine)
    path = tmp_path / "contracts.csv"
    path.write_text(csv_text(99_999, bad_line=99_999), encoding="utf-8")
    done = subprocess.run(
        [CALLCENTER, "contracts", "import", str(path)],
        env={**os.environ, "CALLCENTER_DATABASE_URL": database_url},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "line 99999: paid_until" in done.stderr, done.stderr
    assert "nothing imported (1 bad line(s))" in done.stderr
    with db.sessions(engine)() as s:
        assert _count(s, ContractRow) == 0
    engine.dispose()


@pytest.mark.postgres
def test_postgres_looks_a_chunk_up_by_index_in_a_table_without_statistics(
    postgres_url: str,
) -> None:
    """In an import's transaction the tables it fills have no statistics: the planner took
    them for small and hashed the whole table for every chunk, a time growing with the
    square of the import. The driver's lookups go by the index (a nested loop) instead."""
    engine = db.make_engine(postgres_url)
    migrate.upgrade(engine)
    contracts = parse_contracts(csv_text(3 * CHUNK))
    with db.transaction(db.sessions(engine)) as session:
        repo.import_contracts(session, contracts, NOW)  # no ANALYZE: none has run yet
        driver = Bulk(session.connection())
        numbers = [c.number for c in contracts[:CHUNK]]
        query = select(ContractRow.id).where(ContractRow.number.in_(IN))

        def plan() -> str:
            compiled = query.compile(dialect=engine.dialect)
            sql = "EXPLAIN " + str(compiled).replace(IN_MARK, "(SELECT unnest(CAST(%s AS TEXT[])))")
            rows = session.connection().exec_driver_sql(sql, (numbers,)).all()
            return "\n".join(r[0] for r in rows)

        assert "Hash Join" in plan()  # what the planner picks on its own
        with driver.index_lookups():
            assert "Index Scan using uq_contracts_number" in plan()
            assert len(driver.rows("ids", query, numbers)) == CHUNK
        assert "Hash Join" in plan()  # the transaction's other statements: as before
    engine.dispose()
