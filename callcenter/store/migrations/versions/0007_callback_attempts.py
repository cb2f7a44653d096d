"""callback attempts, requested callbacks, call direction

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 07:15:00

- `callback_attempts`: one row per "Call back" (AMI Originate): the operator, when it
  started and ended, how it ended (`result`: reached, no_answer, busy, unreachable,
  operator_no_answer, failed) and the Linkedid of the originated call.
- `callbacks.requested`: the caller pressed 1 in the queue to be called back.
- `callbacks.attempts`: attempts that dialled the customer (see domain/callbacks.py).
- `calls.direction`: `inbound` (a customer called) or `callback` (we called back).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "callback_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("callback_id", sa.Integer(), nullable=False),
        sa.Column("operator", sa.String(length=64), nullable=False),
        sa.Column("linkedid", sa.String(length=150), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["callback_id"],
            ["callbacks.id"],
            name=op.f("fk_callback_attempts_callback_id_callbacks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_attempts")),
        sa.UniqueConstraint("linkedid", name=op.f("uq_callback_attempts_linkedid")),
    )
    with op.batch_alter_table("callback_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_callback_attempts_callback_id"), ["callback_id"], unique=False
        )
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("requested", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("direction", sa.String(length=20), nullable=False, server_default="inbound")
        )


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("direction")
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.drop_column("attempts")
        batch_op.drop_column("requested")
    with op.batch_alter_table("callback_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_callback_attempts_callback_id"))
    op.drop_table("callback_attempts")
