"""Migration 0014 (the manager's ticket list, newest first by keyset): the index comes and
goes with the revision, on SQLite and PostgreSQL, and the tickets stay as they were."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import Engine, inspect, text

from callcenter.store import db, migrate

INDEX = "ix_tickets_received_id"


def _indexes(engine: Engine) -> set[str]:
    return {str(i["name"]) for i in inspect(engine).get_indexes("tickets")}


def test_0014_adds_the_index_keeps_the_tickets_and_goes_back(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        migrate.upgrade(engine, "0014-1")
        assert INDEX not in _indexes(engine)
        with engine.begin() as c:
            c.execute(
                text(
                    "INSERT INTO tickets (status, kind, received_at, description, site_url,"
                    " other_site, created_at, findings, may_skip) VALUES ('open', 'answer', :t,"
                    " 'opis', '', false, :t, '[]', false)"
                ),
                {"t": datetime(2026, 11, 24, 9, tzinfo=UTC).replace(tzinfo=None)},
            )
        migrate.upgrade(engine, "0014")
        assert migrate.current(engine) == "0014"
        assert INDEX in _indexes(engine)
        command.downgrade(migrate.alembic_config(engine), "0014-1")
        assert INDEX not in _indexes(engine)
        with engine.connect() as c:
            assert c.execute(text("SELECT count(*) FROM tickets")).scalar() == 1
    finally:
        engine.dispose()
