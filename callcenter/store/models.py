"""The tables. Times are UTC (`UTCDateTime`); phone numbers are stored normalised (E.164)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from callcenter.store.types import Fitted, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    contracts: Mapped[list[ContractRow]] = relationship(back_populates="customer")


class ContractRow(Base):
    __tablename__ = "contracts"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    plan: Mapped[str] = mapped_column(String(20))
    billing: Mapped[str] = mapped_column(String(20))
    paid_from: Mapped[date] = mapped_column(Date)
    paid_until: Mapped[date] = mapped_column(Date)
    product: Mapped[str] = mapped_column(String(20))
    site_url: Mapped[str] = mapped_column(String(500))
    email: Mapped[str] = mapped_column(String(320))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_via: Mapped[str] = mapped_column(String(40), default="order")
    daily_units: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    customer: Mapped[Customer] = relationship(back_populates="contracts", lazy="joined")
    phones: Mapped[list[ContractPhone]] = relationship(
        back_populates="contract",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="ContractPhone.position",
    )


class ContractPhone(Base):
    __tablename__ = "contract_phones"
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), primary_key=True)
    e164: Mapped[str] = mapped_column(String(20), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    contract: Mapped[ContractRow] = relationship(back_populates="phones")


class ClosureRow(Base):
    __tablename__ = "closures"
    id: Mapped[int] = mapped_column(primary_key=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConsolidationRow(Base):
    __tablename__ = "consolidations"
    __table_args__ = (UniqueConstraint("contract_id", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    days: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    contract: Mapped[ContractRow] = relationship(lazy="joined")


class TicketRow(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_contract_received", "contract_id", "received_at"),
        # The manager's list, newest first by keyset (store/ticket_list.py; migration 0014).
        Index("ix_tickets_received_id", "received_at", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # A draft (opened for the operator by an answered call) may not know its contract or kind
    # yet, and does not count against the allowance until it is completed.
    status: Mapped[str] = mapped_column(String(20), default="open")
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    site_url: Mapped[str] = mapped_column(String(500), default="")
    other_site: Mapped[bool] = mapped_column(Boolean, default=False)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), nullable=True, unique=True)
    operator: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The clause checks when it was saved (JSON list, store/tickets.py maps it), and whether
    # any of them lets the request be skipped: so a manager sees why.
    findings: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    may_skip: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    contract: Mapped[ContractRow | None] = relationship(lazy="joined")


class TicketSecretRow(Base):
    """A ticket's access data, sealed (callcenter/secrets.py): never stored in the clear."""

    __tablename__ = "ticket_secrets"
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CallRow(Base):
    """One inbound call as the PBX saw it, keyed by Asterisk's Linkedid."""

    __tablename__ = "calls"
    # The call log's pages: each filter, then (arrived_at, id) for the keyset order
    # (store/call_queries.py; migration 0008).
    __table_args__ = (
        Index("ix_calls_arrived_id", "arrived_at", "id"),
        Index("ix_calls_outcome_arrived", "outcome", "arrived_at", "id"),
        Index("ix_calls_contract_arrived", "contract", "arrived_at", "id"),
        Index("ix_calls_operator_arrived", "operator", "arrived_at", "id"),
        Index("ix_calls_caller_arrived", "caller_e164", "arrived_at", "id"),
        Index("ix_calls_route_reason_arrived", "route", "reason", "arrived_at", "id"),
        Index("ix_calls_direction_arrived", "direction", "arrived_at", "id"),  # 0011
        Index("ix_calls_reason_arrived", "reason", "arrived_at", "id"),  # 0011
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(64), unique=True)
    # Text from outside (the caller, Asterisk) is fitted to its column (types.Fitted).
    caller_raw: Mapped[str] = mapped_column(Fitted(200), default="")
    caller_name: Mapped[str] = mapped_column(Fitted(200), default="")
    caller_e164: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    dialled: Mapped[str] = mapped_column(Fitted(64), default="")
    contract: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The contracts the decision names, in order: a JSON list (a number may hold a comma).
    # Read through `contract_numbers` (or `contract_list` for a Core row): one reading.
    contracts: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    route: Mapped[str | None] = mapped_column(Fitted(20), nullable=True)
    reason: Mapped[str | None] = mapped_column(Fitted(20), nullable=True)
    covered: Mapped[bool] = mapped_column(Boolean, default=False)
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decision_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    # The routing rule that decided and its explanation (domain.routing.Decision; 0011).
    rule: Mapped[str] = mapped_column(Fitted(40), default="", server_default="")
    why: Mapped[str] = mapped_column(Fitted(400), default="", server_default="")
    # Filled in by the AMI listener from Asterisk's events.
    state: Mapped[str] = mapped_column(String(20), default="arrived")
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    wait_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    talk_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    operator: Mapped[str | None] = mapped_column(Fitted(64), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    hangup_cause: Mapped[str] = mapped_column(Fitted(64), default="")
    # The queue's facts (domain.calls.QueueFacts): what a call followed again after a
    # restart needs to end the same way (migration 0009).
    queue_left_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    queue_abandoned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    queue_status: Mapped[str] = mapped_column(String(20), default="", server_default="")
    reconciled: Mapped[str] = mapped_column(Fitted(200), default="")
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("callbacks.id"), nullable=True)
    direction: Mapped[str] = mapped_column(String(20), default="inbound")  # or "callback"
    rings: Mapped[list[CallRingRow]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="CallRingRow.position"
    )

    @property
    def contract_numbers(self) -> tuple[str, ...]:
        return contract_list(self.contracts)


def contract_list(stored: Any) -> tuple[str, ...]:
    """The contracts a logged decision names, as `calls.contracts` holds them."""
    return tuple(str(number) for number in stored or ())


class CallRingRow(Base):
    """One operator rung for a call, for how long, and how it ended."""

    __tablename__ = "call_rings"
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint: Mapped[str] = mapped_column(Fitted(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    result: Mapped[str] = mapped_column(String(20))


class CallbackRow(Base):
    """A missed call from a covered customer: call back by `due_at`."""

    __tablename__ = "callbacks"
    id: Mapped[int] = mapped_column(primary_key=True)
    caller_e164: Mapped[str] = mapped_column(String(20), index=True)
    contract: Mapped[str | None] = mapped_column(String(64), nullable=True)
    first_call_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_call_at: Mapped[datetime] = mapped_column(UTCDateTime)
    calls: Mapped[int] = mapped_column(Integer, default=1)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    requested: Mapped[bool] = mapped_column(Boolean, default=False)  # pressed 1 in the queue
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # attempts that dialled out


class CallbackAttemptRow(Base):
    """One "Call back": the operator's phone rang first, then the customer's number."""

    __tablename__ = "callback_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("callbacks.id"), index=True)
    operator: Mapped[str] = mapped_column(String(64))
    linkedid: Mapped[str] = mapped_column(String(150), unique=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    result: Mapped[str | None] = mapped_column(String(20), nullable=True)


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    endpoint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A disabled account cannot log in; its web sessions and API tokens are deleted.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WebSessionRow(Base):
    """A login: a browser's cookie session (idle expiry) or an API bearer token (fixed
    expiry). Only the SHA-256 of the random token is stored, so a copy of the database lets
    nobody in; deleting the row ends the session at once (logout, disable)."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    user: Mapped[UserRow] = relationship(lazy="joined")


class AuditRow(Base):
    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    # What changed, as JSON objects of the values before and after (None: nothing then);
    # written by store/audit.py only. The table is append-only (triggers, migration 0013).
    before: Mapped[str | None] = mapped_column(Text, nullable=True)
    after: Mapped[str | None] = mapped_column(Text, nullable=True)


class RoutingChangeRow(Base):
    """A change that can alter routing decisions: a contract's data (its number) or
    everything (NULL: an import, a closure). The routing service follows these to keep its
    in-memory copy of the routing inputs current."""

    __tablename__ = "routing_changes"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    contract: Mapped[str | None] = mapped_column(String(64), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReportTallyRow(Base):
    """One group's tally of one Warsaw day (domain/report_tallies.py `Tally`): counts, and
    the values a figure needs whole as hex of little-endian doubles (NULL: none), so that
    joining texts joins the values. Kept current from
    the call log (store/report_tallies.py); migrations 0012, 0015."""

    __tablename__ = "report_tallies"
    __table_args__ = (  # a range's top contracts from the index alone, then their tallies
        Index("ix_report_tallies_kind_day", "kind", "day", "key", "offered", "calls", "rejected"),
        Index("ix_report_tallies_kind_key", "kind", "key", "day"),  # (migration 0015)
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    offered: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    abandoned: Mapped[int] = mapped_column(Integer, default=0)
    unanswered: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    queued: Mapped[int] = mapped_column(Integer, default=0)
    answered_within_20: Mapped[int] = mapped_column(Integer, default=0)
    answered_within_60: Mapped[int] = mapped_column(Integer, default=0)
    callbacks_made: Mapped[int] = mapped_column(Integer, default=0)
    callbacks_in_time: Mapped[int] = mapped_column(Integer, default=0)
    rung: Mapped[int] = mapped_column(Integer, default=0)
    missed_rings: Mapped[int] = mapped_column(Integer, default=0)
    waits: Mapped[str | None] = mapped_column(Text, nullable=True)
    talks: Mapped[str | None] = mapped_column(Text, nullable=True)
    rings: Mapped[str | None] = mapped_column(Text, nullable=True)


class ReportDayRow(Base):
    """A day whose tallies were built (an empty day has no tallies but is built)."""

    __tablename__ = "report_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReportMonthRow(Base):
    """A whole past month's tallies, merged from its days' (all built then), as JSON
    documents {kind: {key: [counts..., waits, talks, rings]}} (values as lists of numbers):
    `tallies` the operators' and hours', `contract_tallies` the contracts'; and `figures`,
    every figure of the month the core computed from its tallies (contracts', operators',
    hours', days', the whole month's), read by a report of exactly this month. One row a
    month."""

    __tablename__ = "report_months"
    month: Mapped[date] = mapped_column(Date, primary_key=True)  # its first day
    built_at: Mapped[datetime] = mapped_column(UTCDateTime)
    tallies: Mapped[str] = mapped_column(Text)
    contract_tallies: Mapped[str] = mapped_column(Text)
    figures: Mapped[str] = mapped_column(Text)


class ReportMarkRow(Base):
    """A day whose calls or callbacks changed since its tallies were built: written with
    the change (store/report_tallies.py), removed when the day is built again."""

    __tablename__ = "report_marks"
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
