"""report contract indexes: a report's contracts with the most calls, then their tallies

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A report's top contracts: the contract tallies of a range of days summed by key,
    # `calls` and `offered` read from the index (store/report_merge.top_contracts), and
    # the rejections by contract (`rejected`); the other kinds of a range found without
    # walking the contracts' rows.
    op.create_index(
        "ix_report_tallies_kind_day",
        "report_tallies",
        ["kind", "day", "key", "offered", "calls", "rejected"],
    )
    # Then those contracts' tallies: each contract's days of the range.
    op.create_index("ix_report_tallies_kind_key", "report_tallies", ["kind", "key", "day"])


def downgrade() -> None:
    op.drop_index("ix_report_tallies_kind_key", table_name="report_tallies")
    op.drop_index("ix_report_tallies_kind_day", table_name="report_tallies")
