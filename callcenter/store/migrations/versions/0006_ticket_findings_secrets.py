"""ticket findings, sealed access data

Revision ID: 0006
Revises: 0008
Create Date: 2026-12-02 07:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("findings", sa.Text(), nullable=False, server_default="[]"))
        batch_op.add_column(
            sa.Column("may_skip", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    op.create_table(
        "ticket_secrets",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_secrets_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_ticket_secrets")),
    )


def downgrade() -> None:
    op.drop_table("ticket_secrets")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("may_skip")
        batch_op.drop_column("findings")
