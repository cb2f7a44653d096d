"""a decision's contracts as a list: calls.contracts becomes a JSON list

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 02:50:00

`calls.contracts` held the contracts a decision names joined with commas, and a contract
number may itself hold a comma. It becomes a JSON list. Existing rows are carried over: the
comma-joined text is split, and pieces that together make a contract number the database
knows (or the call's own `contract`) are joined again, so `B/2, (Łódź)` stays one contract.
Downgrade joins the list with commas again (the old format, as lossy as it was).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

CHUNK = 5000


Chunk = Sequence[tuple[int, Any, str | None]]


def _rows(connection: sa.Connection, column: str) -> Iterator[Chunk]:
    """(id, value of `column`, contract) of every call, by id, a chunk at a time."""
    calls = sa.table(
        "calls", sa.column("id", sa.Integer), sa.column(column), sa.column("contract", sa.String)
    )
    last = 0
    while True:
        chunk = connection.execute(
            sa.select(calls.c.id, calls.c[column], calls.c.contract)
            .where(calls.c.id > last)
            .order_by(calls.c.id)
            .limit(CHUNK)
        ).all()
        if not chunk:
            return
        yield [(row[0], row[1], row[2]) for row in chunk]
        last = chunk[-1][0]


def split_joined(joined: str, known: set[str]) -> list[str]:
    """The old comma-joined text as a list; adjacent pieces that make a known number join."""
    parts = joined.split(",")
    found: list[str] = []
    i = 0
    while i < len(parts):
        for j in range(len(parts), i, -1):  # the longest known number starting here
            candidate = ",".join(parts[i:j])
            if j == i + 1 or candidate in known:
                if candidate:
                    found.append(candidate)
                i = j
                break
    return found


def upgrade() -> None:
    connection = op.get_bind()
    op.execute("ALTER TABLE calls RENAME COLUMN contracts TO contracts_joined")
    op.add_column(
        "calls", sa.Column("contracts", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
    )
    known = set(connection.scalars(sa.text("SELECT number FROM contracts")))
    calls = sa.table("calls", sa.column("id", sa.Integer), sa.column("contracts", sa.JSON))
    for chunk in _rows(connection, "contracts_joined"):
        values = [
            {"key": id_, "value": split_joined(str(joined), known | {contract or ""})}
            for id_, joined, contract in chunk
            if joined
        ]
        if values:
            connection.execute(
                calls.update()
                .where(calls.c.id == sa.bindparam("key"))
                .values(contracts=sa.bindparam("value", type_=sa.JSON)),
                values,
            )
    op.execute("ALTER TABLE calls DROP COLUMN contracts_joined")


def downgrade() -> None:
    connection = op.get_bind()
    op.execute("ALTER TABLE calls RENAME COLUMN contracts TO contracts_list")
    op.add_column(
        "calls", sa.Column("contracts", sa.Text(), nullable=False, server_default=sa.text("''"))
    )
    calls = sa.table("calls", sa.column("id", sa.Integer), sa.column("contracts", sa.Text))
    for chunk in _rows(connection, "contracts_list"):
        values = [{"key": id_, "value": ",".join(listed)} for id_, listed, _ in _listed(chunk)]
        if values:
            connection.execute(
                calls.update()
                .where(calls.c.id == sa.bindparam("key"))
                .values(contracts=sa.bindparam("value")),
                values,
            )
    op.execute("ALTER TABLE calls DROP COLUMN contracts_list")
    if connection.dialect.name != "sqlite":
        op.alter_column("calls", "contracts", server_default=None)


def _listed(chunk: Chunk) -> Iterator[tuple[int, list[str], str | None]]:
    """The rows whose JSON list is not empty, decoded (the column is read as text here)."""
    for id_, stored, contract in chunk:
        listed = json.loads(stored) if isinstance(stored, str) else stored
        if listed:
            yield id_, [str(n) for n in listed], contract
