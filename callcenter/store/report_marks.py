"""Marks of the days whose service-level tallies are out of date (store/report_tallies.py
builds them again): every flush that writes a call, its rings or a callback marks the Warsaw
day it counts on, in the same transaction as the change; a writer of Core statements (the
routing service's decisions) calls `mark` itself."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session, UOWTransaction

from callcenter.domain.reports import day_of
from callcenter.store.models import CallbackRow, CallRingRow, CallRow, ReportMarkRow


def watch(session: Session, _context: UOWTransaction, _instances: object) -> None:
    """`before_flush`: mark the days of the calls and callbacks this flush writes."""
    days: set[date] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, CallRow) and obj.arrived_at is not None:
            days.add(day_of(obj.arrived_at))
        elif isinstance(obj, CallRingRow):
            call = session.get(CallRow, obj.call_id) if obj.call_id is not None else None
            if call is not None and call.arrived_at is not None:
                days.add(day_of(call.arrived_at))
        elif isinstance(obj, CallbackRow) and obj.first_call_at is not None:
            days.add(day_of(obj.first_call_at))
    for day in sorted(days):
        session.add(ReportMarkRow(day=day))


def mark(session: Session, moments: Iterable[datetime]) -> None:
    """Mark the days of `moments` (calls' arrivals) for writers that use Core statements,
    which no flush sees."""
    days = sorted({day_of(m) for m in moments})
    if days:
        session.connection().execute(insert(ReportMarkRow), [{"day": d} for d in days])
