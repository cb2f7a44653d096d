"""call log indexes: keyset pages, newest first, under every filter

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-02 07:15:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0005"
branch_labels = None
depends_on = None

# (name, columns): each filter of the call log, then arrival and id for the keyset order.
INDEXES = (
    ("ix_calls_arrived_id", ["arrived_at", "id"]),
    ("ix_calls_outcome_arrived", ["outcome", "arrived_at", "id"]),
    ("ix_calls_contract_arrived", ["contract", "arrived_at", "id"]),
    ("ix_calls_operator_arrived", ["operator", "arrived_at", "id"]),
    ("ix_calls_caller_arrived", ["caller_e164", "arrived_at", "id"]),
    ("ix_calls_route_reason_arrived", ["route", "reason", "arrived_at", "id"]),
)


def upgrade() -> None:
    for name, columns in INDEXES:
        op.create_index(name, "calls", columns)


def downgrade() -> None:
    for name, _ in INDEXES:
        op.drop_index(name, table_name="calls")
