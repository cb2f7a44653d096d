"""The wallboard's service: today's counters from the call log, and the snapshot a screen
reads first (`GET /api/wallboard`): the live board of this process (pbx/wallboard.py) with
the counters, or, where no listener runs beside the web app (`callcenter web` alone), the
counters only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from callcenter.domain.wallboard import Board, Counts, today_bounds, today_counts, view
from callcenter.pbx.wallboard import KIND, WALLBOARD, LiveBoard
from callcenter.store.call_queries import report_facts


def counts_today(session: Session, now: datetime) -> Counts:
    """Today's counters (the Warsaw day of `now`) from the call log."""
    start, end = today_bounds(now)
    calls, _ = report_facts(session, start.astimezone(UTC), end.astimezone(UTC))
    return today_counts(calls)


def count_reader(sessions: sessionmaker[Session]) -> Callable[[datetime], Counts]:
    """`counts_today` with a session of its own (the live board reads in a thread)."""

    def read(now: datetime) -> Counts:
        with sessions() as session:
            return counts_today(session, now)

    return read


def snapshot(session: Session, board: LiveBoard | None, now: datetime) -> dict[str, Any]:
    """What a wallboard opened now shows first. The live board's counters when it has
    them (the same ones its messages carry), else read now."""
    if board is None:
        counts = counts_today(session, now)
        return {
            "kind": KIND,
            "endpoint": WALLBOARD,
            **view(Board(), now),
            "live": False,
            "connected": False,
            "connection_since": None,
            "counts": counts.as_json(None),
        }
    return board.message(now, None if board.counts else counts_today(session, now))
