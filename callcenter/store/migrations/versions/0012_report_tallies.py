"""service-level tallies: per-day tallies, built days, days marked changed

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 05:45:00

The reports read per-day (and whole-month) tallies instead of every call of a range
(store/report_tallies.py).
The tables start empty: a day's tallies are built the first time a report asks for it, or
all at once by `callcenter reports rebuild`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COUNTS = (
    "calls", "offered", "answered", "abandoned", "unanswered", "rejected", "failed", "queued",
    "answered_within_20", "answered_within_60", "callbacks_made", "callbacks_in_time", "rung",
    "missed_rings",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "report_tallies",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        sa.Column("waits", sa.Text(), nullable=True),
        sa.Column("talks", sa.Text(), nullable=True),
        sa.Column("rings", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("day", "kind", "key", name=op.f("pk_report_tallies")),
    )
    op.create_table(
        "report_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_report_days")),
    )
    op.create_table(
        "report_months",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tallies", sa.Text(), nullable=False),
        sa.Column("contract_tallies", sa.Text(), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_report_months")),
    )
    op.create_table(
        "report_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_marks")),
    )
    op.create_index(op.f("ix_report_marks_day"), "report_marks", ["day"])


def downgrade() -> None:
    op.drop_index(op.f("ix_report_marks_day"), table_name="report_marks")
    op.drop_table("report_marks")
    op.drop_table("report_months")
    op.drop_table("report_days")
    op.drop_table("report_tallies")
