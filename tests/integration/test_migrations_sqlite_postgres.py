"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from callcenter.store import db, migrate
from callcenter.store.models import Base


def test_upgraded_schema_matches_the_models(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        migrate.upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": False}
            )
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == [], "models and migrations disagree: add a migration"


def test_every_migration_downgrades_and_upgrades_again(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        migrate.upgrade(engine)
        command.downgrade(migrate.alembic_config(engine), "base")
        assert migrate.current(engine) is None
        migrate.upgrade(engine)
        assert migrate.current(engine) == migrate.HEAD
    finally:
        engine.dispose()
