"""the queue's facts of a call: a call followed again after a restart ends the same way

- `calls.queue_left_at`: when the caller left the queue (answered, hung up, or given up).
- `calls.queue_abandoned`: the caller hung up while waiting in the queue.
- `calls.queue_status`: the queue gave up on the caller: QUEUESTATUS (TIMEOUT, ...) or
  CALLBACK (pressed 1). Existing rows get no facts (false, empty).

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-07 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0007"  # the head of the chain (0008 comes before 0006 and 0007)
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("queue_left_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("queue_abandoned", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("queue_status", sa.String(20), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("queue_status")
        batch.drop_column("queue_abandoned")
        batch.drop_column("queue_left_at")
