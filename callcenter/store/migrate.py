"""Alembic, driven from code: `callcenter db upgrade` runs `upgrade()`.

Alembic is imported by the functions that use it, not here: every command checks the schema
(`require_schema`, one query), and only a few migrate.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest revision in migrations/versions; a test keeps it equal to Alembic's head, so that
# checking the schema on every command needs no Alembic script scan.
HEAD = "0015"


class SchemaError(RuntimeError):
    """The schema is missing or older than this code: `callcenter db upgrade` is due."""


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config  # noqa: PLC0415  (on demand)

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command  # noqa: PLC0415  (on demand)

    command.upgrade(alembic_config(engine), revision)


def current(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415  (on demand)

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory  # noqa: PLC0415  (on demand)

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
