"""Migration 0010 (a decision's contracts as a JSON list) carries existing comma-joined rows
over and back, on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text

from callcenter.store import db, migrate
from callcenter.store.models import CallRow

CONTRACTS = {1: "A-1", 2: "B/2, (Łódź)", 3: "C-3"}
# (linkedid, contracts as revision 0007 stored them, contract)
OLD_ROWS = [
    ("1.1", "", None),
    ("1.2", "A-1", "A-1"),
    ("1.3", "A-1,C-3", None),
    ("1.4", "B/2, (Łódź)", "B/2, (Łódź)"),  # one contract with a comma in its number
    ("1.5", "A-1,B/2, (Łódź),C-3", None),
    ("1.6", "X,Y", "X,Y"),  # a number no longer in the contracts table, but the call's own
]
LISTS = {
    "1.1": [],
    "1.2": ["A-1"],
    "1.3": ["A-1", "C-3"],
    "1.4": ["B/2, (Łódź)"],
    "1.5": ["A-1", "B/2, (Łódź)", "C-3"],
    "1.6": ["X,Y"],
}


def test_comma_joined_contracts_become_lists_and_go_back_on_downgrade(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        migrate.upgrade(engine, "0007")
        now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC).replace(tzinfo=None)
        with engine.begin() as c:
            c.execute(text("INSERT INTO customers (id, name) VALUES (1, 'K')"))
            for id_, number in CONTRACTS.items():
                c.execute(
                    text(
                        "INSERT INTO contracts (id, number, customer_id, plan, billing, paid_from,"
                        " paid_until, product, site_url, email, accepted_at, accepted_via,"
                        " updated_at) VALUES (:id, :n, 1, 'phone', 'yearly', '2026-01-01',"
                        " '2026-12-31', 'SmodCMS', 'https://k.pl', 'k@k.pl', :t, 'order', :t)"
                    ),
                    {"id": id_, "n": number, "t": now},
                )
            for linkedid, joined, contract in OLD_ROWS:
                c.execute(
                    text(
                        "INSERT INTO calls (linkedid, caller_raw, caller_name, dialled, contract,"
                        " contracts, covered, arrived_at, state, hangup_cause, reconciled,"
                        " direction) VALUES (:l, '', '', '', :c, :j, false, :t, 'ended', '', '',"
                        " 'inbound')"
                    ),
                    {"l": linkedid, "c": contract, "j": joined, "t": now},
                )
        migrate.upgrade(engine)
        assert migrate.current(engine) == migrate.HEAD
        with db.sessions(engine)() as s:
            rows = {r.linkedid: r for r in s.query(CallRow)}
            assert {lid: list(r.contract_numbers) for lid, r in rows.items()} == LISTS
        command.downgrade(migrate.alembic_config(engine), "0007")
        with engine.connect() as c:
            found = c.execute(text("SELECT linkedid, contracts FROM calls")).all()
        back = {linkedid: joined for linkedid, joined in found}
        assert back == {linkedid: joined for linkedid, joined, _ in OLD_ROWS}
        migrate.upgrade(engine)  # and up again
        with db.sessions(engine)() as s:
            again = {r.linkedid: list(r.contract_numbers) for r in s.query(CallRow)}
        assert again == LISTS
    finally:
        engine.dispose()
