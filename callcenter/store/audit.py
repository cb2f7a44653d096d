"""The audit log: the one place that writes it, and its pages for people.

Every change made in the app or the CLI is one entry: who (`actor`: a username, or `cli`),
when, what (`action`, `subject`, a one-line `detail`) and the values it replaced and wrote
(`before`, `after`: JSON objects, None where there were none). Entries are only ever added:
no code here or elsewhere updates or deletes them, and the database refuses it (triggers of
migration 0013).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from callcenter.store.models import AuditRow

PAGE_MAX = 200


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime
    actor: str
    action: str
    subject: str
    detail: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class AuditFilter:
    """None means any. `action` matches itself and its family (`contract` finds
    `contract.create` and `contract.update`); `subject` matches any subject containing it."""

    actor: str | None = None
    action: str | None = None
    subject: str | None = None


def dumped(values: Mapping[str, Any] | None) -> str | None:
    """The values as a JSON object (a date or time as ISO 8601 text; a value orjson cannot
    write is a TypeError). orjson: an import writes one for each of many contracts."""
    if values is None:
        return None
    return orjson.dumps(dict(values)).decode()


def record(
    session: Session,
    now: datetime,
    actor: str,
    action: str,
    subject: str,
    detail: str = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """Add one entry, in the caller's unit of work (it lands with the change or not at all)."""
    session.add(
        AuditRow(
            at=now,
            actor=actor,
            action=action,
            subject=subject[:200],
            detail=detail,
            before=dumped(before),
            after=dumped(after),
        )
    )


def _load(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    loaded = orjson.loads(text)
    return loaded if isinstance(loaded, dict) else {"value": loaded}


def _entry(row: AuditRow) -> Entry:
    return Entry(
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        detail=row.detail,
        before=_load(row.before),
        after=_load(row.after),
    )


def page(
    session: Session, f: AuditFilter, before_id: int | None = None, limit: int = 50
) -> tuple[list[Entry], int | None]:
    """One page of entries, newest first, from just before `before_id` (keyset on the id:
    no page scans the ones before it); and the `before_id` of the next page (None: last)."""
    limit = max(1, min(limit, PAGE_MAX))
    query = select(AuditRow)
    if before_id is not None:
        query = query.where(AuditRow.id < before_id)
    if f.actor is not None:
        query = query.where(AuditRow.actor == f.actor)
    if f.action is not None:
        query = query.where(
            or_(
                AuditRow.action == f.action,
                AuditRow.action.startswith(f.action + ".", autoescape=True),
            )
        )
    if f.subject is not None:
        query = query.where(AuditRow.subject.contains(f.subject, autoescape=True))
    rows = list(session.scalars(query.order_by(AuditRow.id.desc()).limit(limit + 1)))
    entries = [_entry(r) for r in rows[:limit]]
    return entries, (entries[-1].id if len(rows) > limit else None)
