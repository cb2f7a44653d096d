"""Migration 0015 (a report's top contracts from an index): the index comes and goes with
the revision, on SQLite and PostgreSQL, and the tallies stay as they were."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect, text

from callcenter.store import db, migrate

INDEX = "ix_report_tallies_kind_day"


def _indexes(engine: Engine) -> set[str]:
    return {str(i["name"]) for i in inspect(engine).get_indexes("report_tallies")}


def test_0015_adds_the_index_keeps_the_tallies_and_goes_back(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        migrate.upgrade(engine, "0015-1")
        assert INDEX not in _indexes(engine)
        with engine.begin() as c:
            c.execute(
                text(
                    "INSERT INTO report_tallies (day, kind, key, calls, offered, answered,"
                    " abandoned, unanswered, rejected, failed, queued, answered_within_20,"
                    " answered_within_60, callbacks_made, callbacks_in_time, rung,"
                    " missed_rings) VALUES ('2026-11-24', 'contract', 'K-1', 3, 2, 1, 0, 0,"
                    " 1, 0, 2, 1, 1, 0, 0, 0, 0)"
                )
            )
        migrate.upgrade(engine, "0015")
        assert migrate.current(engine) == "0015"
        assert INDEX in _indexes(engine)
        command.downgrade(migrate.alembic_config(engine), "0015-1")
        assert INDEX not in _indexes(engine)
        with engine.connect() as c:
            assert c.execute(text("SELECT sum(offered) FROM report_tallies")).scalar() == 2
    finally:
        engine.dispose()
