"""What the `callcenter` command's modules share: the unit of work, errors, JSON output."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from callcenter.config import Settings
from callcenter.store import db, migrate

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for programs.")]


class UserError(Exception):
    """Bad input or state: shown as one line, exit status 1."""


def _now() -> datetime:
    return datetime.now(UTC)


def _engine(settings: Settings | None = None) -> Engine:
    return db.make_engine((settings or Settings.from_env()).database_url)


@contextmanager
def _unit_of_work() -> Iterator[Session]:
    engine = _engine()
    try:
        migrate.require_schema(engine)
        with db.transaction(db.sessions(engine)) as session:
            yield session
    finally:
        engine.dispose()


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")
