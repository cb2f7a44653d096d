"""A migration that only adds indexes: they come with its revision and go with
its downgrade, on a database holding a row that stays as it was."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect, text

from callcenter.store import db, migrate


def _indexes(engine: Engine, table: str) -> set[str]:
    return {str(i["name"]) for i in inspect(engine).get_indexes(table)}


def check_index_migration(
    url: str, revision: str, table: str, indexes: tuple[str, ...], insert: str, count: str
) -> None:
    """Upgrade to the revision before, run `insert` (SQL adding a row), upgrade to
    `revision`: the indexes are there; downgrade: they are gone; `count` (SQL) is 1
    throughout."""
    engine = db.make_engine(url)
    try:
        migrate.upgrade(engine, f"{revision}-1")
        assert not set(indexes) & _indexes(engine, table)
        with engine.begin() as c:
            c.execute(text(insert))
        migrate.upgrade(engine, revision)
        assert migrate.current(engine) == revision
        assert set(indexes) <= _indexes(engine, table)
        with engine.connect() as c:
            assert c.execute(text(count)).scalar() == 1
        command.downgrade(migrate.alembic_config(engine), f"{revision}-1")
        assert not set(indexes) & _indexes(engine, table)
        with engine.connect() as c:
            assert c.execute(text(count)).scalar() == 1
    finally:
        engine.dispose()
