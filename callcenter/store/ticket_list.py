"""Tickets as the manager reviews them: filtered, newest first, by keyset pages; and the
one-click answer (rows never leave this module).

A page never scans what came before it: the next page starts after the last ticket read,
`(received_at, id) < cursor`. Drafts (the listener's, not yet saved by the operator) are
not requests yet and are never listed. Whether a ticket is breached depends on the calendar
(its due time is not stored: a closure announced later moves it), so the store narrows and
the service's rules judge each ticket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Interval, and_, func, literal, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from callcenter.domain.breaches import SOONEST_DUE, TicketStanding
from callcenter.domain.contracts import Request
from callcenter.domain.terms import TicketKind
from callcenter.store import audit
from callcenter.store.models import ContractRow, TicketRow
from callcenter.store.repositories import changed
from callcenter.store.tickets import (
    _HAS_SECRET,
    DRAFT,
    TicketConflictError,
    TicketView,
    _view,
    ticket,
)


@dataclass(frozen=True)
class TicketFilter:
    """What a manager narrows the tickets to; None means any. `until` is exclusive."""

    contract: str | None = None
    kind: TicketKind | None = None
    standing: TicketStanding | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class Keyset:
    """Where a page ended: the last row read (its time and id), as `a.b` in a URL."""

    at: datetime
    id: int

    def encode(self) -> str:
        return f"{round(self.at.timestamp() * 1_000_000)}.{self.id}"

    @classmethod
    def decode(cls, text: str) -> Keyset:
        """Raises ValueError for anything but what `encode` writes."""
        micros, sep, ident = text.partition(".")
        if not sep or not micros.lstrip("-").isdigit() or not ident.isdigit():
            raise ValueError("not a page cursor")
        if len(micros) > 20 or len(ident) > 18:
            raise ValueError("not a page cursor")
        try:
            moment = datetime.fromtimestamp(int(micros) / 1_000_000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError("not a page cursor") from None
        return cls(moment, int(ident))


def _conditions(f: TicketFilter, now: datetime, dialect: str) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = [TicketRow.status != DRAFT]
    if f.contract is not None:
        found.append(
            TicketRow.contract_id
            == select(ContractRow.id).where(ContractRow.number == f.contract).scalar_subquery()
        )
    if f.kind is not None:
        found.append(TicketRow.kind == f.kind.value)
    if f.since is not None:
        found.append(TicketRow.received_at >= f.since)
    if f.until is not None:
        found.append(TicketRow.received_at < f.until)
    if f.standing is TicketStanding.OPEN:
        found.append(TicketRow.answered_at.is_(None))
    elif f.standing is TicketStanding.ANSWERED:
        found.append(TicketRow.answered_at.is_not(None))
    elif f.standing is TicketStanding.BREACHED:
        # Narrowed only (the due time is not stored): no ticket is due sooner than
        # SOONEST_DUE after it came; the rules judge each one left.
        found.append(
            or_(
                and_(TicketRow.answered_at.is_(None), TicketRow.received_at < now - SOONEST_DUE),
                _answered_after_soonest_due(dialect),
            )
        )
    return found


def _answered_after_soonest_due(dialect: str) -> ColumnElement[bool]:
    """Answered more than SOONEST_DUE after it came: the only answers that can be late.
    The database compares the gap (SQLite keeps UTC text, hence julianday)."""
    if dialect == "sqlite":
        gap = func.julianday(TicketRow.answered_at) - func.julianday(TicketRow.received_at)
        return gap > SOONEST_DUE / timedelta(days=1)
    return TicketRow.answered_at > TicketRow.received_at + literal(SOONEST_DUE, Interval())


def ticket_batch(
    session: Session, f: TicketFilter, after: Keyset | None, count: int, now: datetime
) -> list[TicketView]:
    """Up to `count` tickets of the filter after the cursor, newest first (the breached
    filter only narrowed: the caller's rules judge each)."""
    dialect = session.get_bind().dialect.name
    query = select(TicketRow, _HAS_SECRET).where(*_conditions(f, now, dialect))
    if after is not None:
        query = query.where(
            or_(
                TicketRow.received_at < after.at,
                and_(TicketRow.received_at == after.at, TicketRow.id < after.id),
            )
        )
    query = query.order_by(TicketRow.received_at.desc(), TicketRow.id.desc()).limit(count)
    return [_view(row, bool(has)) for row, has in session.execute(query)]


def mark_answered(session: Session, ticket_id: int, now: datetime) -> TicketView:
    """Set the ticket's answer time to `now`, once; the ticket as it was before.

    One conditional UPDATE, so two managers clicking at once answer it once; the other
    gets TicketConflictError (answered already, or still the listener's draft). Notes the
    contract's routing change (its effective period may move). NotFoundError if no ticket."""
    before = ticket(session, ticket_id)
    done = session.execute(
        update(TicketRow)
        .where(
            TicketRow.id == ticket_id,
            TicketRow.answered_at.is_(None),
            TicketRow.status != DRAFT,
        )
        .values(answered_at=now)
    )
    if cast(CursorResult[Any], done).rowcount != 1:
        if before.status == DRAFT:
            raise TicketConflictError(
                f"ticket #{ticket_id} is a draft: its operator has not saved it yet"
            )
        raise TicketConflictError(f"ticket #{ticket_id} was answered already")
    if before.contract is not None:
        changed(session, now, before.contract)
    session.flush()
    return before


def audit_answer(
    session: Session,
    ticket_id: int,
    actor: str,
    now: datetime,
    detail: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    """The audit entry of a manager's answer: who, when, which ticket, what changed."""
    audit.record(
        session, now, actor, "ticket.answer", f"ticket #{ticket_id}", detail, before, after
    )
    session.flush()


def late_answer_candidates(session: Session, numbers: Sequence[str]) -> list[Request]:
    """The requests of these contracts answered more than SOONEST_DUE after they came: the
    only ones that can have been answered late (the rules judge each). A Core read of five
    columns."""
    if not numbers:
        return []
    late_enough = _answered_after_soonest_due(session.get_bind().dialect.name)
    rows = session.execute(
        select(
            TicketRow.id, TicketRow.kind, TicketRow.received_at, TicketRow.answered_at,
            ContractRow.number,
        )
        .join(ContractRow, ContractRow.id == TicketRow.contract_id)
        .where(
            ContractRow.number.in_(list(numbers)),
            TicketRow.status != DRAFT,
            TicketRow.answered_at.is_not(None),
            late_enough,
        )
    )  # fmt: skip
    return [
        Request(
            contract=r.number, kind=TicketKind(r.kind), received_at=r.received_at,
            answered_at=r.answered_at, id=r.id,
        )
        for r in rows
    ]  # fmt: skip
