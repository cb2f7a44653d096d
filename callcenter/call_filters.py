"""The call log's filters as people type them (query parameters of `/calls` and
`GET /api/calls`), checked and turned into a `CallFilter`; a bad one is a `FilterError`
naming its field, never echoing what was sent.

    since, until  ISO 8601; naive means Warsaw; a date alone means that whole day
                  (`since` from its midnight, `until` to the next midnight)
    outcome, route, reason, direction   one of their codes
    contract, operator                  as stored
    number        a caller's number in any common form, matched as E.164
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from callcenter.domain.calendar import WARSAW
from callcenter.domain.call_values import Outcome
from callcenter.domain.callbacks import AttemptResult
from callcenter.domain.phone import normalise
from callcenter.domain.terms import Reason, Route
from callcenter.store.call_queries import PAGE_MAX, CallFilter, Cursor
from callcenter.timeparse import parse_time

FIELDS = ("since", "until", "outcome", "route", "reason", "contract", "operator", "number",
          "direction")  # fmt: skip
# A call of the log has a queue outcome (inbound) or an attempt's result (a callback's call).
OUTCOMES = tuple(dict.fromkeys([*Outcome, *AttemptResult]))
ROUTES = tuple(Route)
REASONS = tuple(Reason)
DIRECTIONS = ("inbound", "callback")
_TEXT_MAX = 64
_TIME_HELP = "not a time: use ISO 8601, e.g. 2026-11-24 or 2026-11-24T09:30 (Warsaw)"


class FilterError(ValueError):
    """A query parameter of the call log that cannot be used: 422 naming the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class LogQuery:
    """One page of the log asked for: the filter, where to start, how many."""

    filter: CallFilter
    after: Cursor | None = None
    limit: int = 50


def parse_filter(params: Mapping[str, str | None], region: str) -> CallFilter:
    """The filter of these parameters (empty or missing ones mean any)."""
    values = {k: v.strip() for k, v in params.items() if k in FIELDS and v and v.strip()}
    since = _time(values, "since", end_of_day=False)
    until = _time(values, "until", end_of_day=True)
    if since is not None and until is not None and until <= since:
        raise FilterError("until", "must be after since")
    return CallFilter(
        since=since,
        until=until,
        outcome=_code(values, "outcome", OUTCOMES),
        route=_code(values, "route", ROUTES),
        reason=_code(values, "reason", REASONS),
        contract=_text(values, "contract"),
        operator=_text(values, "operator"),
        number=_number(values, region),
        direction=_code(values, "direction", DIRECTIONS),
    )


def parse_query(params: Mapping[str, str | None], region: str, default_limit: int = 50) -> LogQuery:
    """The filter, the page cursor (`cursor`) and the page size (`limit`, 1..500)."""
    f = parse_filter(params, region)
    after = None
    if cursor := (params.get("cursor") or "").strip():
        try:
            after = Cursor.decode(cursor)
        except ValueError:
            raise FilterError("cursor", "not a page cursor of this log") from None
    limit = default_limit
    if text := (params.get("limit") or "").strip():
        whole = text.isascii() and text.isdigit() and len(text) <= 6
        if not (whole and 1 <= int(text) <= PAGE_MAX):
            raise FilterError("limit", f"must be a whole number from 1 to {PAGE_MAX}")
        limit = int(text)
    return LogQuery(f, after, limit)


def as_params(f: CallFilter) -> dict[str, str]:
    """The filter as query parameters again (for the next page's and the CSV's links)."""
    values = {
        "since": f.since.astimezone(WARSAW).isoformat() if f.since else None,
        "until": f.until.astimezone(WARSAW).isoformat() if f.until else None,
        "outcome": f.outcome,
        "route": f.route,
        "reason": f.reason,
        "contract": f.contract,
        "operator": f.operator,
        "number": f.number,
        "direction": f.direction,
    }
    return {k: v for k, v in values.items() if v}


def _time(values: Mapping[str, str], field: str, *, end_of_day: bool) -> datetime | None:
    text = values.get(field)
    if text is None:
        return None
    try:
        moment = parse_time(text)
        if end_of_day and len(text) == 10:  # a date alone: up to the end of that day
            moment += timedelta(days=1)
        return moment
    except (ValueError, OverflowError):
        raise FilterError(field, _TIME_HELP) from None


def _code(values: Mapping[str, str], field: str, allowed: tuple[str, ...]) -> str | None:
    text = values.get(field)
    if text is None:
        return None
    if text not in allowed:
        raise FilterError(field, f"must be one of: {', '.join(allowed)}")
    return text


def _text(values: Mapping[str, str], field: str) -> str | None:
    text = values.get(field)
    if text is None:
        return None
    if len(text) > _TEXT_MAX or not text.isprintable():
        raise FilterError(field, f"must be printable text of at most {_TEXT_MAX} characters")
    return text


def _number(values: Mapping[str, str], region: str) -> str | None:
    text = values.get("number")
    if text is None:
        return None
    number = normalise(text[:40], region) if len(text) <= 40 else None
    if number is None or number.e164 is None:
        raise FilterError("number", "not a phone number (e.g. 601 234 567 or +48601234567)")
    return number.e164
