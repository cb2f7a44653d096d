"""Service levels from the call log: pure figures over calls and callbacks.

Theory of operation: a report is a fold over the call log. Each call is a `CallFacts` value
(the fields `callcenter calls list --json` prints); each callback a `CallbackFacts`. The
figures of a group of calls (a day, an operator, a contract, an hour) are one `Figures`
value, computed by `figures()`; the groupings only choose which calls go together. Nothing
here reads the store or the clock: the caller gives the calls, the callbacks, the range and
the calendar.

The definitions (the same on the page, in the API and in the CSV):
- *offered*: inbound calls that arrived (callback calls we placed are not offered).
- *answered*, *abandoned*, *unanswered* (the queue gave up: timeout), *rejected* (a message
  route played: closed, no contract, e-mail plan, expired, limit reached, anonymous),
  *failed* (no decision was logged): the call's outcome.
- *queued*: offered calls that reached the queue (the calls an operator could have answered).
- *answered within 20 s / 60 s*: queued calls answered with a wait of at most 20 / 60 seconds;
  the *service level* is that count over the queued calls (none queued: no service level).
- *wait*: the queued calls' wait (queue entry to answer, or to leaving the queue); average
  and 90th percentile (nearest rank). *Talk*: the answered calls' talk time, average.
- *callbacks made*: callbacks opened for the group's missed calls (by the day of the first
  missed call, or the contract); *returned in time*: those done by their due time.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from callcenter.domain.calendar import Calendar, warsaw

ANSWER_TARGETS = (20.0, 60.0)  # seconds: the two service-level thresholds


@dataclass(frozen=True)
class RingFacts:
    operator: str
    seconds: float | None
    result: str


@dataclass(frozen=True)
class CallFacts:
    """One call of the log, as the report needs it."""

    id: int
    arrived: datetime
    direction: str  # "inbound" or "callback"
    route: str | None
    reason: str | None
    outcome: str | None
    operator: str | None
    contract: str | None
    queued: datetime | None
    wait_seconds: float | None
    talk_seconds: float | None
    rings: tuple[RingFacts, ...] = ()
    callback: int | None = None

    @property
    def inbound(self) -> bool:
        return self.direction != "callback"


@dataclass(frozen=True)
class CallbackFacts:
    id: int
    contract: str | None
    first_call: datetime
    due: datetime
    done: datetime | None

    @property
    def in_time(self) -> bool:
        return self.done is not None and self.done <= self.due


def call_facts(item: Mapping[str, Any]) -> CallFacts:
    """A call from its JSON form (`calls list --json`, `GET /api/calls`)."""
    return CallFacts(
        id=int(item["id"]),
        arrived=datetime.fromisoformat(item["arrived"]),
        direction=item.get("direction") or "inbound",
        route=item.get("route"),
        reason=item.get("reason"),
        outcome=item.get("outcome"),
        operator=item.get("operator"),
        contract=item.get("contract"),
        queued=datetime.fromisoformat(item["queued"]) if item.get("queued") else None,
        wait_seconds=item.get("wait_seconds"),
        talk_seconds=item.get("talk_seconds"),
        rings=tuple(
            RingFacts(r["operator"], r.get("seconds"), r["result"]) for r in item.get("rings", ())
        ),
        callback=item.get("callback"),
    )


def callback_facts(item: Mapping[str, Any]) -> CallbackFacts:
    """A callback from its JSON form (`callbacks list --all --json`)."""
    return CallbackFacts(
        id=int(item["id"]),
        contract=item.get("contract"),
        first_call=datetime.fromisoformat(item["first_call"]),
        due=datetime.fromisoformat(item["due"]),
        done=datetime.fromisoformat(item["done"]) if item.get("done") else None,
    )


@dataclass(frozen=True)
class Figures:
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    unanswered: int = 0
    rejected: int = 0
    failed: int = 0
    queued: int = 0
    answered_within_20: int = 0
    answered_within_60: int = 0
    wait_avg: float | None = None
    wait_p90: float | None = None
    talk_avg: float | None = None
    callbacks_made: int = 0
    callbacks_in_time: int = 0
    # (route, reason) -> calls turned away with that route and reason
    rejected_by: tuple[tuple[str, str, int], ...] = ()

    @property
    def service_level_20(self) -> float | None:
        return _share(self.answered_within_20, self.queued)

    @property
    def service_level_60(self) -> float | None:
        return _share(self.answered_within_60, self.queued)


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0 < q <= 100) by nearest rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(math.ceil(q / 100 * len(ordered)), 1)
    return ordered[rank - 1]


def _mean(values: Sequence[float]) -> float | None:
    """The mean, the same whatever the order of `values` (fsum rounds once)."""
    return math.fsum(values) / len(values) if values else None


def figures(calls: Iterable[CallFacts], callbacks: Iterable[CallbackFacts] = ()) -> Figures:
    """The figures of one group of calls (and the callbacks their missed calls opened)."""
    offered = [c for c in calls if c.inbound]
    outcomes = Counter(c.outcome for c in offered)
    queued = [c for c in offered if c.queued is not None]
    waits = [c.wait_seconds for c in queued if c.wait_seconds is not None]
    answered = [c for c in offered if c.outcome == "answered"]
    talks = [c.talk_seconds for c in answered if c.talk_seconds is not None]
    within = [
        sum(
            1
            for c in queued
            if c.outcome == "answered" and c.wait_seconds is not None and c.wait_seconds <= limit
        )
        for limit in ANSWER_TARGETS
    ]
    rejected = Counter((c.route or "", c.reason or "") for c in offered if c.outcome == "rejected")
    made = list(callbacks)
    return Figures(
        offered=len(offered),
        answered=outcomes["answered"],
        abandoned=outcomes["abandoned"],
        unanswered=outcomes["unanswered"],
        rejected=outcomes["rejected"],
        failed=outcomes["failed"],
        queued=len(queued),
        answered_within_20=within[0],
        answered_within_60=within[1],
        wait_avg=_mean(waits),
        wait_p90=percentile(waits, 90),
        talk_avg=_mean(talks),
        callbacks_made=len(made),
        callbacks_in_time=sum(1 for cb in made if cb.in_time),
        rejected_by=tuple(sorted((r, why, n) for (r, why), n in rejected.items())),
    )


# --- groupings ----------------------------------------------------------------------------


def _grouped(
    calls: Iterable[CallFacts], key: Callable[[CallFacts], Any]
) -> dict[Any, list[CallFacts]]:
    groups: dict[Any, list[CallFacts]] = defaultdict(list)
    for call in calls:
        groups[key(call)].append(call)
    return groups


def day_of(moment: datetime) -> date:
    """The Warsaw calendar day of a moment: a report's days are Warsaw days."""
    return warsaw(moment).date()


@dataclass(frozen=True)
class DayFigures:
    day: date
    working_day: bool
    figures: Figures


def by_day(
    calls: Iterable[CallFacts],
    callbacks: Iterable[CallbackFacts],
    first: date,
    last: date,
    calendar: Calendar,
) -> list[DayFigures]:
    """Every working day from `first` to `last` (with zeros where no call came), and any
    other day of the range that had calls (a weekend's turned-away callers)."""
    per_day = _grouped((c for c in calls if first <= day_of(c.arrived) <= last), _arrival_day)
    cbs: dict[date, list[CallbackFacts]] = defaultdict(list)
    for cb in callbacks:
        cbs[day_of(cb.first_call)].append(cb)
    days: list[DayFigures] = []
    day = first
    while day <= last:
        working = calendar.is_working_day(day)
        if working or day in per_day:
            days.append(DayFigures(day, working, figures(per_day.get(day, ()), cbs.get(day, ()))))
        day += timedelta(days=1)
    return days


def _arrival_day(call: CallFacts) -> date:
    return day_of(call.arrived)


@dataclass(frozen=True)
class OperatorFigures:
    """One operator's share: the calls that rang their phone and what they did with them."""

    operator: str
    rung: int  # calls that rang this operator at least once
    answered: int  # calls this operator answered
    missed_rings: int  # rings not answered (no answer, busy, unavailable)
    answered_within_20: int
    ring_avg: float | None  # seconds a ring lasted before this operator answered
    talk_avg: float | None
    talk_total: float


def by_operator(calls: Iterable[CallFacts]) -> list[OperatorFigures]:
    rung: dict[str, set[int]] = defaultdict(set)
    missed: Counter[str] = Counter()
    answer_rings: dict[str, list[float]] = defaultdict(list)
    for call in calls:
        for ring in call.rings:
            rung[ring.operator].add(call.id)
            if ring.result in ("no_answer", "busy", "unavailable"):
                missed[ring.operator] += 1
            elif ring.result == "answered" and ring.seconds is not None:
                answer_rings[ring.operator].append(ring.seconds)
    answered = _grouped((c for c in calls if c.outcome == "answered" and c.operator), _operator)
    result = []
    for operator in sorted(set(rung) | set(answered)):
        theirs = answered.get(operator, [])
        talks = [c.talk_seconds for c in theirs if c.talk_seconds is not None]
        result.append(
            OperatorFigures(
                operator=operator,
                rung=len(rung.get(operator, ())),
                answered=len(theirs),
                missed_rings=missed[operator],
                answered_within_20=sum(
                    1 for c in theirs if c.wait_seconds is not None and c.wait_seconds <= 20
                ),
                ring_avg=_mean(answer_rings.get(operator, [])),
                talk_avg=_mean(talks),
                talk_total=math.fsum(talks),
            )
        )
    return result


def _operator(call: CallFacts) -> str:
    return call.operator or ""


@dataclass(frozen=True)
class ContractFigures:
    contract: str
    figures: Figures


def by_contract(
    calls: Iterable[CallFacts], callbacks: Iterable[CallbackFacts] = ()
) -> list[ContractFigures]:
    """The calls that named one contract, per contract, most calls first."""
    groups = _grouped((c for c in calls if c.contract), _contract)
    cbs: dict[str, list[CallbackFacts]] = defaultdict(list)
    for cb in callbacks:
        if cb.contract:
            cbs[cb.contract].append(cb)
    rows = [ContractFigures(n, figures(group, cbs.get(n, ()))) for n, group in groups.items()]
    return sorted(rows, key=lambda r: (-r.figures.offered, r.contract))


def _contract(call: CallFacts) -> str:
    return call.contract or ""


@dataclass(frozen=True)
class HourFigures:
    hour: int  # 0-23, Warsaw
    offered: int
    answered: int
    rejected: int


def by_hour(calls: Iterable[CallFacts]) -> list[HourFigures]:
    """Inbound calls by the Warsaw hour of day they arrived in, all 24 hours."""
    groups = _grouped((c for c in calls if c.inbound), lambda c: warsaw(c.arrived).hour)
    return [
        HourFigures(
            hour=hour,
            offered=len(groups.get(hour, ())),
            answered=sum(1 for c in groups.get(hour, ()) if c.outcome == "answered"),
            rejected=sum(1 for c in groups.get(hour, ()) if c.outcome == "rejected"),
        )
        for hour in range(24)
    ]


def rejections_by_reason(calls: Iterable[CallFacts]) -> list[tuple[str, int]]:
    """Turned-away inbound calls by reason code, most first."""
    counts = Counter(c.reason or "" for c in calls if c.inbound and c.outcome == "rejected")
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))
