"""ticket review index: the manager's ticket list, newest first, by keyset

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 06:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # `/tickets`: ORDER BY received_at DESC, id DESC, a page after (received_at, id).
    op.create_index("ix_tickets_received_id", "tickets", ["received_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_tickets_received_id", table_name="tickets")
