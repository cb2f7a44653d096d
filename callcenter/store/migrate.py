"""Alembic, driven from code: `callcenter db upgrade` runs `upgrade()`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest revision in migrations/versions; a test keeps it equal to Alembic's head, so that
# checking the schema on every command needs no Alembic script scan.
HEAD = "0015"


class SchemaError(RuntimeError):
    """The schema is missing or older than this code: `callcenter db upgrade` is due."""


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def require_schema(engine: Engine) -> None:
    """Raise SchemaError unless the database is at the newest revision (HEAD)."""
    with engine.connect() as connection:
        try:
            have = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError:
            have = None
    want = HEAD
    if have != want:
        where = engine.url.render_as_string(hide_password=True)
        state = "is not initialised" if have is None else f"is at revision {have}, not {want}"
        raise SchemaError(f"database {where} {state}: run `callcenter db upgrade`")
