"""Every callback as the manager reviews it: open ones first by due time, then the done
ones (latest due first); each with its attempts and the calls that made it. Keyset pages:
a page starts after the last callback shown, never scanning what came before it
(rows never leave this module)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from callcenter.domain.breaches import CallbackStanding
from callcenter.store.models import CallbackAttemptRow, CallbackRow, CallRow

OPEN, DONE = "o", "d"


@dataclass(frozen=True)
class CallbackFilter:
    """None means any. `since`/`until` (exclusive) bound the first missed call."""

    standing: CallbackStanding | None = None
    contract: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class CallbackCursor:
    """The last callback shown: its part of the list (open or done), due time and id."""

    part: str
    due_at: datetime
    id: int

    def encode(self) -> str:
        return f"{self.part}{round(self.due_at.timestamp() * 1_000_000)}.{self.id}"

    @classmethod
    def decode(cls, text: str) -> CallbackCursor:
        """Raises ValueError for anything but what `encode` writes."""
        part, rest = text[:1], text[1:]
        micros, sep, ident = rest.partition(".")
        if part not in (OPEN, DONE) or not sep or not micros.lstrip("-").isdigit():
            raise ValueError("not a page cursor")
        if not ident.isdigit() or len(micros) > 20 or len(ident) > 18:
            raise ValueError("not a page cursor")
        try:
            moment = datetime.fromtimestamp(int(micros) / 1_000_000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError("not a page cursor") from None
        return cls(part, moment, int(ident))


@dataclass(frozen=True)
class Attempt:
    id: int
    operator: str
    started_at: datetime
    ended_at: datetime | None
    result: str | None
    call_id: int | None  # the attempt's own entry in the call log, once the listener saw it


@dataclass(frozen=True)
class CausingCall:
    """A missed call that made (or joined) the callback."""

    id: int
    arrived_at: datetime
    route: str | None
    outcome: str | None


@dataclass(frozen=True)
class CallbackRecord:
    id: int
    caller: str  # E.164
    contract: str | None
    first_call_at: datetime
    last_call_at: datetime
    calls: int
    due_at: datetime
    done_at: datetime | None
    requested: bool
    attempts_counted: int
    attempts: tuple[Attempt, ...]
    caused_by: tuple[CausingCall, ...]


def _conditions(f: CallbackFilter, now: datetime) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if f.contract is not None:
        found.append(CallbackRow.contract == f.contract)
    if f.since is not None:
        found.append(CallbackRow.first_call_at >= f.since)
    if f.until is not None:
        found.append(CallbackRow.first_call_at < f.until)
    if f.standing is CallbackStanding.BREACHED:
        # The rule of domain/breaches.is_breached, as the query's narrowing.
        found.append(
            or_(
                and_(CallbackRow.done_at.is_(None), CallbackRow.due_at < now),
                CallbackRow.done_at > CallbackRow.due_at,
            )
        )
    return found


def _part(
    session: Session,
    part: str,
    conditions: list[ColumnElement[bool]],
    after: CallbackCursor | None,
    count: int,
) -> list[CallbackRow]:
    query = select(CallbackRow).where(*conditions)
    if part == OPEN:
        query = query.where(CallbackRow.done_at.is_(None))
        if after is not None:
            query = query.where(
                or_(
                    CallbackRow.due_at > after.due_at,
                    and_(CallbackRow.due_at == after.due_at, CallbackRow.id > after.id),
                )
            )
        query = query.order_by(CallbackRow.due_at, CallbackRow.id)
    else:
        query = query.where(CallbackRow.done_at.is_not(None))
        if after is not None:
            query = query.where(
                or_(
                    CallbackRow.due_at < after.due_at,
                    and_(CallbackRow.due_at == after.due_at, CallbackRow.id < after.id),
                )
            )
        query = query.order_by(CallbackRow.due_at.desc(), CallbackRow.id.desc())
    return list(session.scalars(query.limit(count)))


def page(
    session: Session, f: CallbackFilter, after: CallbackCursor | None, limit: int, now: datetime
) -> tuple[list[CallbackRecord], CallbackCursor | None]:
    """One page of callbacks and the cursor of the next (None: the last page)."""
    conditions = _conditions(f, now)
    rows: list[tuple[str, CallbackRow]] = []
    wants_open = f.standing in (None, CallbackStanding.OPEN, CallbackStanding.BREACHED)
    wants_done = f.standing in (None, CallbackStanding.DONE, CallbackStanding.BREACHED)
    if wants_open and (after is None or after.part == OPEN):
        found = _part(session, OPEN, conditions, after, limit + 1)
        rows += [(OPEN, row) for row in found]
    if wants_done and len(rows) <= limit:
        done_after = after if after is not None and after.part == DONE else None
        found = _part(session, DONE, conditions, done_after, limit + 1 - len(rows))
        rows += [(DONE, row) for row in found]
    cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        part, last = rows[-1]
        cursor = CallbackCursor(part, last.due_at, last.id)
    records = _records(session, [row for _, row in rows])
    return records, cursor


def _records(session: Session, rows: list[CallbackRow]) -> list[CallbackRecord]:
    ids = [row.id for row in rows]
    attempts: dict[int, list[Attempt]] = {}
    causes: dict[int, list[CausingCall]] = {}
    if ids:
        attempt_calls = {
            r.linkedid: r.id
            for r in session.execute(
                select(CallRow.linkedid, CallRow.id).where(
                    CallRow.callback_id.in_(ids), CallRow.direction == "callback"
                )
            )
        }
        for a in session.scalars(
            select(CallbackAttemptRow)
            .where(CallbackAttemptRow.callback_id.in_(ids))
            .order_by(CallbackAttemptRow.started_at, CallbackAttemptRow.id)
        ):
            attempts.setdefault(a.callback_id, []).append(
                Attempt(
                    a.id,
                    a.operator,
                    a.started_at,
                    a.ended_at,
                    a.result,
                    attempt_calls.get(a.linkedid),
                )
            )
        for c in session.execute(
            select(
                CallRow.id, CallRow.callback_id, CallRow.arrived_at, CallRow.route, CallRow.outcome
            )
            .where(CallRow.callback_id.in_(ids), CallRow.direction != "callback")
            .order_by(CallRow.arrived_at, CallRow.id)
        ):
            assert c.callback_id is not None
            causes.setdefault(c.callback_id, []).append(
                CausingCall(c.id, c.arrived_at, c.route, c.outcome)
            )
    return [
        CallbackRecord(
            id=row.id,
            caller=row.caller_e164,
            contract=row.contract,
            first_call_at=row.first_call_at,
            last_call_at=row.last_call_at,
            calls=row.calls,
            due_at=row.due_at,
            done_at=row.done_at,
            requested=bool(row.requested),
            attempts_counted=row.attempts or 0,
            attempts=tuple(attempts.get(row.id, ())),
            caused_by=tuple(causes.get(row.id, ())),
        )
        for row in rows
    ]
