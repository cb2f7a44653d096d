"""call log: indexes for the direction and reason filters; the decision's rule and why

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 05:45:00

The call log filters by direction (inbound, callback) and by a reason alone (without its
route); each gets its index, then arrival and id for the keyset order, like the filters of
0008. A call's timeline shows the routing decision with the rule that made it and its `why`:
`calls.rule` and `calls.why` keep them (empty for calls logged before).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_calls_direction_arrived", ["direction", "arrived_at", "id"]),
    ("ix_calls_reason_arrived", ["reason", "arrived_at", "id"]),
)


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("rule", sa.String(40), nullable=False, server_default=""))
        batch.add_column(sa.Column("why", sa.String(400), nullable=False, server_default=""))
    for name, columns in INDEXES:
        op.create_index(name, "calls", columns)


def downgrade() -> None:
    for name, _ in INDEXES:
        op.drop_index(name, table_name="calls")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("why")
        batch.drop_column("rule")
