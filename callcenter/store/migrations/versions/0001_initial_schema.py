"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-30 15:33:47.683589
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit")),
    )
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_at"), ["at"], unique=False)

    op.create_table(
        "calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("linkedid", sa.String(length=64), nullable=False),
        sa.Column("caller_raw", sa.String(length=200), nullable=False),
        sa.Column("caller_name", sa.String(length=200), nullable=False),
        sa.Column("caller_e164", sa.String(length=20), nullable=True),
        sa.Column("dialled", sa.String(length=64), nullable=False),
        sa.Column("contract", sa.String(length=64), nullable=True),
        sa.Column("contracts", sa.Text(), nullable=False),
        sa.Column("route", sa.String(length=20), nullable=True),
        sa.Column("reason", sa.String(length=20), nullable=True),
        sa.Column("covered", sa.Boolean(), nullable=False),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_ms", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
        sa.UniqueConstraint("linkedid", name=op.f("uq_calls_linkedid")),
    )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calls_arrived_at"), ["arrived_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_calls_caller_e164"), ["caller_e164"], unique=False)

    op.create_table(
        "closures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closures")),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("name", name=op.f("uq_customers_name")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("endpoint", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("plan", sa.String(length=20), nullable=False),
        sa.Column("billing", sa.String(length=20), nullable=False),
        sa.Column("paid_from", sa.Date(), nullable=False),
        sa.Column("paid_until", sa.Date(), nullable=False),
        sa.Column("product", sa.String(length=20), nullable=False),
        sa.Column("site_url", sa.String(length=500), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_via", sa.String(length=40), nullable=False),
        sa.Column("daily_units", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_contracts_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
        sa.UniqueConstraint("number", name=op.f("uq_contracts_number")),
    )
    op.create_table(
        "consolidations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_consolidations_contract_id_contracts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consolidations")),
        sa.UniqueConstraint("contract_id", "day", name=op.f("uq_consolidations_contract_id")),
    )
    with op.batch_alter_table("consolidations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consolidations_contract_id"), ["contract_id"], unique=False
        )

    op.create_table(
        "contract_phones",
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("e164", sa.String(length=20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_contract_phones_contract_id_contracts")
        ),
        sa.PrimaryKeyConstraint("contract_id", "e164", name=op.f("pk_contract_phones")),
    )
    with op.batch_alter_table("contract_phones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contract_phones_e164"), ["e164"], unique=False)

    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("site_url", sa.String(length=500), nullable=False),
        sa.Column("other_site", sa.Boolean(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_tickets_call_id_calls")),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_tickets_contract_id_contracts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tickets_contract_received", ["contract_id", "received_at"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_contract_received")

    op.drop_table("tickets")
    with op.batch_alter_table("contract_phones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_phones_e164"))

    op.drop_table("contract_phones")
    with op.batch_alter_table("consolidations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consolidations_contract_id"))

    op.drop_table("consolidations")
    op.drop_table("contracts")
    op.drop_table("users")
    op.drop_table("customers")
    op.drop_table("closures")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calls_caller_e164"))
        batch_op.drop_index(batch_op.f("ix_calls_arrived_at"))

    op.drop_table("calls")
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_at"))

    op.drop_table("audit")
