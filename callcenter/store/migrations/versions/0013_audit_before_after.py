"""the audit log: before and after values; append-only

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 05:45:00

Each audit entry gains `before` and `after` (JSON text: the values a change replaced and
the ones it wrote; NULL where there were none). The table becomes append-only in the
database itself: a trigger refuses every UPDATE and DELETE (and, on PostgreSQL, TRUNCATE),
whoever sends it. Downgrade drops the triggers and the columns.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

REFUSAL = "the audit log is append-only"

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER audit_no_{verb.lower()} BEFORE {verb} ON audit
    BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"""
    for verb in ("UPDATE", "DELETE")
]
POSTGRES_FUNCTION = f"""CREATE FUNCTION audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{REFUSAL}' USING ERRCODE = 'insufficient_privilege';
END
$$"""
POSTGRES_TRIGGERS = [
    "CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit "
    "FOR EACH ROW EXECUTE FUNCTION audit_append_only()",
    "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()",
]


def upgrade() -> None:
    op.add_column("audit", sa.Column("before", sa.Text(), nullable=True))
    op.add_column("audit", sa.Column("after", sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    else:
        op.execute(POSTGRES_FUNCTION)
        for statement in POSTGRES_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_no_update")
        op.execute("DROP TRIGGER audit_no_delete")
        # SQLite drops a column in place (3.35+): no table copy, no trigger to carry over.
        op.execute('ALTER TABLE audit DROP COLUMN "after"')
        op.execute('ALTER TABLE audit DROP COLUMN "before"')
    else:
        op.execute("DROP TRIGGER audit_no_truncate ON audit")
        op.execute("DROP TRIGGER audit_no_change ON audit")
        op.execute("DROP FUNCTION audit_append_only()")
        op.drop_column("audit", "after")
        op.drop_column("audit", "before")
