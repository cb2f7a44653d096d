"""call tracking, callbacks, ticket drafts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 15:47:17.076681
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("caller_e164", sa.String(length=20), nullable=False),
        sa.Column("contract", sa.String(length=64), nullable=True),
        sa.Column("first_call_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_call_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callbacks")),
    )
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_callbacks_caller_e164"), ["caller_e164"], unique=False)
        batch_op.create_index(batch_op.f("ix_callbacks_due_at"), ["due_at"], unique=False)

    op.create_table(
        "call_rings",
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("endpoint", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("result", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_call_rings_call_id_calls")
        ),
        sa.PrimaryKeyConstraint("call_id", "position", name=op.f("pk_call_rings")),
    )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("state", sa.String(length=20), nullable=False, server_default="arrived")
        )
        batch_op.add_column(sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("wait_s", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("talk_s", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("operator", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column("hangup_cause", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("reconciled", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("callback_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_calls_outcome"), ["outcome"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_calls_callback_id_callbacks"), "callbacks", ["callback_id"], ["id"]
        )

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=20), nullable=False, server_default="open")
        )
        batch_op.add_column(sa.Column("operator", sa.String(length=64), nullable=True))
        batch_op.alter_column("contract_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_unique_constraint(batch_op.f("uq_tickets_call_id"), ["call_id"])


def downgrade() -> None:

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_tickets_call_id"), type_="unique")
        batch_op.alter_column("contract_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("operator")
        batch_op.drop_column("status")

    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_calls_callback_id_callbacks"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_calls_outcome"))
        batch_op.drop_column("callback_id")
        batch_op.drop_column("reconciled")
        batch_op.drop_column("hangup_cause")
        batch_op.drop_column("outcome")
        batch_op.drop_column("operator")
        batch_op.drop_column("talk_s")
        batch_op.drop_column("wait_s")
        batch_op.drop_column("ended_at")
        batch_op.drop_column("answered_at")
        batch_op.drop_column("queued_at")
        batch_op.drop_column("state")

    op.drop_table("call_rings")
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_callbacks_due_at"))
        batch_op.drop_index(batch_op.f("ix_callbacks_caller_e164"))

    op.drop_table("callbacks")
