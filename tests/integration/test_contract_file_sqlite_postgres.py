"""A contract file imported on two cores (callcenter/contract_file.py): a forked process
checks the file and sends its contracts on while this one writes them, into a real SQLite
file and a real PostgreSQL server. What it writes is what the one-process import writes; a
bad line anywhere, or a checker that dies, leaves nothing written."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session
from test_contract_import_sqlite_postgres import csv_text

from callcenter.contract_file import CheckedFile, CheckerError
from callcenter.domain.contract_csv import CsvError, parse_contracts
from callcenter.store import db, migrate
from callcenter.store import repositories as repo
from callcenter.store.contract_import import CHUNK
from callcenter.store.models import AuditRow, ContractPhone, ContractRow, Customer

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=ZoneInfo("Europe/Warsaw"))
CALLCENTER = str(Path(sys.executable).with_name("callcenter"))


def _fresh(engine: Engine, tmp_path: Path) -> Engine:
    """A second empty database of the same kind."""
    if engine.dialect.name == "sqlite":
        other = db.make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    else:
        import psycopg

        url = engine.url
        with psycopg.connect(
            f"postgresql://{url.username}@{url.host}:{url.port}/postgres", autocommit=True
        ) as c:
            c.execute(f"CREATE DATABASE {url.database}_other")
        other = db.make_engine(url.set(database=f"{url.database}_other"))
    migrate.upgrade(other)
    return other


def _count(session: Session, row: type) -> int:
    return session.scalar(select(func.count()).select_from(row)) or 0


def _import_file(engine: Engine, text: str, progress: Any = None) -> Any:
    with CheckedFile(text.encode(), "PL") as checked, db.transaction(db.sessions(engine)) as s:
        return repo.import_pieces(s, checked.chunks(progress), NOW)


def _audit(engine: Engine) -> list[tuple[str, str, str | None, str | None]]:
    with db.sessions(engine)() as s:
        rows = s.execute(
            select(AuditRow.action, AuditRow.subject, AuditRow.before, AuditRow.after).order_by(
                AuditRow.subject
            )
        ).all()
    return [(a, sub, before, after) for a, sub, before, after in rows]


def _nothing_written(engine: Engine) -> None:
    with db.sessions(engine)() as s:
        for table in (ContractRow, Customer, ContractPhone, AuditRow):
            assert _count(s, table) == 0, table


def test_what_the_checker_sends_is_written_as_the_one_process_import_writes(
    engine: Engine, tmp_path: Path
) -> None:
    """Contracts, phones, customers and the audit entries (whose documents the checker
    made) are the same as when this process reads the file and writes it."""
    text = csv_text(2 * CHUNK + 321)
    lines: list[int] = []
    result = _import_file(engine, text, lines.append)
    assert (result.created, result.updated, result.unchanged) == (2 * CHUNK + 321, 0, 0)
    other = _fresh(engine, tmp_path)
    with db.transaction(db.sessions(other)) as session:
        repo.import_contracts(session, parse_contracts(text), NOW)
    with db.sessions(engine)() as s, db.sessions(other)() as o:
        assert repo.contracts(s) == repo.contracts(o)
        assert _count(s, Customer) == _count(o, Customer) == 700
    assert _audit(engine) == _audit(other)
    # Progress in the file's lines: the first line of each chunk's last record, then all.
    assert lines == [CHUNK + 1, 2 * CHUNK + 1, 2 * CHUNK + 322]
    again = _import_file(engine, text)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2 * CHUNK + 321)
    other.dispose()


def test_bad_lines_after_chunks_were_written_leave_nothing(engine: Engine) -> None:
    """Line 2,400 is bad and a number comes again on the last line: two chunks were sent
    and written before the checker met them; both lines are named, nothing stays."""
    text = csv_text(2 * CHUNK + 450, bad_line=2 * CHUNK + 400)
    text += text.splitlines()[5] + "\n"  # the contract of line 6, again
    with pytest.raises(CsvError) as caught:
        _import_file(engine, text)
    assert [e.line for e in caught.value.errors] == [2 * CHUNK + 400, 2 * CHUNK + 452]
    assert "paid_until" in caught.value.errors[0].message
    assert "first on line 6" in caught.value.errors[1].message
    _nothing_written(engine)


def test_a_bad_header_is_refused_before_anything_is_read(engine: Engine) -> None:
    with pytest.raises(CsvError, match="line 1: header: missing column"):
        CheckedFile(b"number,plan\nC-1,phone\n", "PL").__enter__()
    with pytest.raises(CsvError, match="line 2: is not UTF-8"):
        CheckedFile("number,klient\n".encode("cp1250") + b"\xb3\n", "PL").__enter__()
    _nothing_written(engine)


def test_a_checker_killed_midway_leaves_nothing(engine: Engine) -> None:
    text = csv_text(5 * CHUNK)
    with (
        pytest.raises(CheckerError, match="exit code: -9"),
        CheckedFile(text.encode(), "PL") as checked,
    ):
        chunks = checked.chunks()

        def killed_after_the_first() -> Iterator[Any]:
            yield next(chunks)
            os.kill(checked._process.pid, signal.SIGKILL)
            yield from chunks

        with db.transaction(db.sessions(engine)) as session:
            repo.import_pieces(session, killed_after_the_first(), NOW)
    _nothing_written(engine)


def test_sqlite_returns_the_ids_of_inserts_split_by_its_parameter_limit(
    sqlite_url: str,
) -> None:
    """SQLite gives the new rows' ids from the insert itself, as many rows per statement as
    its parameter limit allows: with the limit lowered, each contract still gets its own
    phones and customer."""
    engine = db.make_engine(sqlite_url)

    @event.listens_for(engine, "connect")
    def _few_parameters(connection: Any, _: Any) -> None:
        # A chunk's IN lists still fit (CHUNK values); a contract insert takes 76 rows.
        connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, CHUNK)

    migrate.upgrade(engine)
    contracts = parse_contracts(csv_text(CHUNK + 57))
    with db.transaction(db.sessions(engine)) as session:
        repo.import_contracts(session, contracts, NOW)
    with db.sessions(engine)() as s:
        assert repo.contracts(s) == contracts
        for c in contracts:
            assert [x.number for x in repo.contracts_for_phone(s, c.phones[0])][:1] == [c.number]
    engine.dispose()


def test_ctrl_c_during_an_import_stops_both_processes_and_leaves_nothing(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    """Ctrl-C (SIGINT to the command's process group, as a terminal sends it) once the
    checker runs: exit status 130, one line saying so, no process left, nothing written."""
    path = tmp_path / "contracts.csv"
    path.write_text(csv_text(60_000), encoding="utf-8")
    command = subprocess.Popen(
        [CALLCENTER, "contracts", "import", str(path)],
        env={**os.environ, "CALLCENTER_DATABASE_URL": database_url},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        checker = _child_of(command.pid)
        os.killpg(command.pid, signal.SIGINT)
        out, err = command.communicate(timeout=60)
    finally:
        command.kill()
    assert command.returncode == 130, err
    assert err == "callcenter: error: interrupted\n" and out == ""
    with pytest.raises(ProcessLookupError):
        os.kill(checker, 0)
    _nothing_written(engine)


def _child_of(pid: int) -> int:
    """The first child process of `pid` (waiting up to 60 s for one)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    for _ in range(600):
        found = children.read_text().split()
        if found:
            return int(found[0])
        time.sleep(0.1)
    raise AssertionError("the command started no checker")
