"""Service levels from per-day tallies: mergeable counts and values, the same figures as
`domain.reports` computes from the calls themselves.

Theory of operation: a day's calls (by the Warsaw day they arrived in) and the callbacks
first called that day fold into tallies, one per group of the day: the day as a whole, each
contract, each operator, each hour of the day, and the rejections by route and reason (of
the day, and of each contract). A tally holds counts and the values a figure needs whole
(the waits, for an exact 90th percentile; the talk and ring times, for exact averages:
`math.fsum` of the values, whatever their order). Two tallies of the same group merge by
adding counts and joining values, so a range's figures are the merge of its days' tallies;
the store does that merge in SQL (sums and joined text) and this module turns the merged
tallies into `reports.Figures`, `OperatorFigures`, `HourFigures`: equal to `reports.by_day`,
`by_operator`, `by_contract` and `by_hour` over the same calls (tests/unit/domain prove it on
random calls). Nothing here reads the store or the clock.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta
from itertools import chain
from typing import Any

from callcenter.domain.calendar import Calendar, warsaw
from callcenter.domain.reports import (
    ANSWER_TARGETS,
    CallbackFacts,
    CallFacts,
    ContractFigures,
    DayFigures,
    Figures,
    HourFigures,
    OperatorFigures,
    day_of,
    percentile,
)

# The kinds of tally (a group of a day's calls) and what their key is.
DAY = "day"  # key "": the day's calls
CONTRACT = "contract"  # key: the contract number
OPERATOR = "operator"  # key: the operator's endpoint
HOUR = "hour"  # key: "00".."23", the Warsaw hour the calls arrived in
DAY_REJECTED = "day_rejected"  # key: route SEP reason
CONTRACT_REJECTED = "contract_rejected"  # key: contract SEP route SEP reason
KINDS = (DAY, CONTRACT, OPERATOR, HOUR, DAY_REJECTED, CONTRACT_REJECTED)
PER_DAY_KINDS = (DAY, DAY_REJECTED)  # kept apart by day when merged; the rest over the range
SEP = "\x1f"
MISSED_RINGS = ("no_answer", "busy", "unavailable")


@dataclass(frozen=True)
class Tally:
    """Counts and values of one group of calls. Which fields a kind uses:

    - day, contract: all but `rung` and `missed_rings`; `answered_within_20/60` count
      queued calls answered within the target; `waits` the queued calls' waits, `talks` the
      answered calls' talk times;
    - operator: `rung`, `missed_rings`,
      `answered` (calls the operator answered), `answered_within_20` (of those, waited at
      most 20 s), `talks` (their talk times), `rings` (seconds an answered ring lasted);
    - hour: `offered`, `answered`, `rejected`;
    - rejections: `rejected`.
    """

    calls: int = 0  # every call of the group, callbacks we placed included
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    unanswered: int = 0
    rejected: int = 0
    failed: int = 0
    queued: int = 0
    answered_within_20: int = 0
    answered_within_60: int = 0
    callbacks_made: int = 0
    callbacks_in_time: int = 0
    rung: int = 0
    missed_rings: int = 0
    waits: tuple[float, ...] = field(default=())
    talks: tuple[float, ...] = field(default=())
    rings: tuple[float, ...] = field(default=())


COUNTS = tuple(f.name for f in fields(Tally) if f.type == "int")
FIGURES_FIELDS = tuple(f.name for f in fields(Figures))
VALUES = ("waits", "talks", "rings")


def merge(a: Tally, b: Tally) -> Tally:
    """The tally of both groups' calls: counts added, values joined."""
    counts = {name: getattr(a, name) + getattr(b, name) for name in COUNTS}
    values = {name: getattr(a, name) + getattr(b, name) for name in VALUES}
    return Tally(**counts, **values)


def merge_all(tallies: Sequence[Tally]) -> Tally:
    """The tally of all the groups' calls (as `merge` of each in turn, in one pass)."""
    args: list[Any] = [sum(getattr(t, name) for t in tallies) for name in COUNTS]
    args += [tuple(chain.from_iterable(getattr(t, name) for t in tallies)) for name in VALUES]
    return Tally(*args)


Key = tuple[date, str, str]  # (day, kind, key)


# --- folding a day's calls ----------------------------------------------------------------


def tallies(
    calls: Iterable[CallFacts], callbacks: Iterable[CallbackFacts] = ()
) -> dict[Key, Tally]:
    """Every tally of the calls' days (a call counts on the Warsaw day it arrived in, a
    callback on the day of its first missed call)."""
    groups: dict[Key, list[CallFacts]] = defaultdict(list)
    for call in calls:
        day = day_of(call.arrived)
        groups[(day, DAY, "")].append(call)
        if call.contract:
            groups[(day, CONTRACT, call.contract)].append(call)
    made: dict[Key, list[CallbackFacts]] = defaultdict(list)
    for cb in callbacks:
        day = day_of(cb.first_call)
        made[(day, DAY, "")].append(cb)
        if cb.contract:
            made[(day, CONTRACT, cb.contract)].append(cb)
    result: dict[Key, Tally] = {}
    for at in groups.keys() | made.keys():
        result[at] = _group_tally(groups.get(at, ()), made.get(at, ()))
    for (day, kind, key), group in groups.items():
        if kind == DAY:
            result.update(_day_extras(day, group))
        for (route, reason), n in _rejections(group).items():
            rkey = f"{route}{SEP}{reason}" if kind == DAY else f"{key}{SEP}{route}{SEP}{reason}"
            result[(day, DAY_REJECTED if kind == DAY else CONTRACT_REJECTED, rkey)] = Tally(
                rejected=n
            )
    return result


def _group_tally(calls: Sequence[CallFacts], callbacks: Sequence[CallbackFacts]) -> Tally:
    offered = [c for c in calls if c.inbound]
    outcomes = Counter(c.outcome for c in offered)
    queued = [c for c in offered if c.queued is not None]
    answered_waits = [
        c.wait_seconds for c in queued if c.outcome == "answered" and c.wait_seconds is not None
    ]
    return Tally(
        calls=len(calls),
        offered=len(offered),
        answered=outcomes["answered"],
        abandoned=outcomes["abandoned"],
        unanswered=outcomes["unanswered"],
        rejected=outcomes["rejected"],
        failed=outcomes["failed"],
        queued=len(queued),
        answered_within_20=sum(1 for w in answered_waits if w <= ANSWER_TARGETS[0]),
        answered_within_60=sum(1 for w in answered_waits if w <= ANSWER_TARGETS[1]),
        callbacks_made=len(callbacks),
        callbacks_in_time=sum(1 for cb in callbacks if cb.in_time),
        waits=tuple(c.wait_seconds for c in queued if c.wait_seconds is not None),
        talks=tuple(
            c.talk_seconds
            for c in offered
            if c.outcome == "answered" and c.talk_seconds is not None
        ),
    )


def _rejections(calls: Iterable[CallFacts]) -> Counter[tuple[str, str]]:
    return Counter(
        (c.route or "", c.reason or "") for c in calls if c.inbound and c.outcome == "rejected"
    )


def _day_extras(day: date, calls: Sequence[CallFacts]) -> dict[Key, Tally]:
    """The operators' and the hours' tallies of one day's calls."""
    out: dict[Key, Tally] = {}
    rung: dict[str, set[int]] = defaultdict(set)
    missed: Counter[str] = Counter()
    rings: dict[str, list[float]] = defaultdict(list)
    for call in calls:
        for ring in call.rings:
            rung[ring.operator].add(call.id)
            if ring.result in MISSED_RINGS:
                missed[ring.operator] += 1
            elif ring.result == "answered" and ring.seconds is not None:
                rings[ring.operator].append(ring.seconds)
    theirs: dict[str, list[CallFacts]] = defaultdict(list)
    for call in calls:
        if call.outcome == "answered" and call.operator:
            theirs[call.operator].append(call)
    for operator in rung.keys() | theirs.keys():
        answered = theirs.get(operator, [])
        out[(day, OPERATOR, operator)] = Tally(
            rung=len(rung.get(operator, ())),
            answered=len(answered),
            missed_rings=missed[operator],
            answered_within_20=sum(
                1
                for c in answered
                if c.wait_seconds is not None and c.wait_seconds <= ANSWER_TARGETS[0]
            ),
            talks=tuple(c.talk_seconds for c in answered if c.talk_seconds is not None),
            rings=tuple(rings.get(operator, ())),
        )
    hours: dict[int, list[CallFacts]] = defaultdict(list)
    for call in calls:
        if call.inbound:
            hours[warsaw(call.arrived).hour].append(call)
    for hour, group in hours.items():
        out[(day, HOUR, f"{hour:02d}")] = Tally(
            offered=len(group),
            answered=sum(1 for c in group if c.outcome == "answered"),
            rejected=sum(1 for c in group if c.outcome == "rejected"),
        )
    return out


# --- merged tallies to figures --------------------------------------------------------------


def _mean(values: Sequence[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def figures_of(t: Tally, rejected_by: Iterable[tuple[str, str, int]] = ()) -> Figures:
    return Figures(
        offered=t.offered,
        answered=t.answered,
        abandoned=t.abandoned,
        unanswered=t.unanswered,
        rejected=t.rejected,
        failed=t.failed,
        queued=t.queued,
        answered_within_20=t.answered_within_20,
        answered_within_60=t.answered_within_60,
        wait_avg=_mean(t.waits),
        wait_p90=percentile(t.waits, 90),
        talk_avg=_mean(t.talks),
        callbacks_made=t.callbacks_made,
        callbacks_in_time=t.callbacks_in_time,
        rejected_by=tuple(sorted(rejected_by)),
    )


def operator_of(operator: str, t: Tally) -> OperatorFigures:
    return OperatorFigures(
        operator=operator,
        rung=t.rung,
        answered=t.answered,
        missed_rings=t.missed_rings,
        answered_within_20=t.answered_within_20,
        ring_avg=_mean(t.rings),
        talk_avg=_mean(t.talks),
        talk_total=math.fsum(t.talks),
    )


@dataclass(frozen=True)
class ServiceLevels:
    """Every figure of the report of a date range (days are Warsaw days, both included)."""

    first: date
    last: date
    total: Figures
    days: list[DayFigures]
    operators: list[OperatorFigures]
    contracts: list[ContractFigures]  # most calls offered first (then by number)
    hours: list[HourFigures]
    contracts_total: int  # the contracts with calls in the range (more than listed: see shown)

    @property
    def rejections(self) -> tuple[tuple[str, str, int], ...]:
        """Turned-away calls of the range by (route, reason), most first."""
        return tuple(sorted(self.total.rejected_by, key=lambda r: (-r[2], r[0], r[1])))

    @property
    def rejections_by_reason(self) -> list[tuple[str, int]]:
        """Turned-away calls of the range by reason alone, most first."""
        counts: Counter[str] = Counter()
        for _route, reason, n in self.total.rejected_by:
            counts[reason] += n
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def shown(levels: ServiceLevels, contracts: int | None) -> ServiceLevels:
    """The report with only its first `contracts` contracts listed (those with the most
    calls offered), `contracts_total` still counting them all; None: all listed."""
    if contracts is None or len(levels.contracts) <= contracts:
        return levels
    return replace(levels, contracts=levels.contracts[:contracts])


def merge_range(found: Iterable[tuple[Key, Tally]]) -> dict[tuple[date | None, str, str], Tally]:
    """Day tallies merged as the store merges them: per day for the day kinds, over the
    whole range (day None) for the others."""
    merged: dict[tuple[date | None, str, str], Tally] = {}
    for (day, kind, key), t in found:
        at = (day if kind in PER_DAY_KINDS else None, kind, key)
        merged[at] = merge(merged[at], t) if at in merged else t
    return merged


@dataclass(frozen=True)
class RangeFigures:
    """The figures of a range that are not kept per day: the contracts' (most calls first),
    the operators' and the hours'. Computed from merged tallies (`range_figures`); a whole
    month's are computed once when its tallies are merged, and stored."""

    contracts: list[ContractFigures]
    operators: list[OperatorFigures]
    hours: list[HourFigures]


def range_figures(merged: Mapping[tuple[date | None, str, str], Tally]) -> RangeFigures:
    rejected: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    operators: dict[str, Tally] = {}
    hours: dict[int, Tally] = {}
    for (_, kind, key), t in merged.items():
        if kind == CONTRACT_REJECTED:
            number, route, reason = key.rsplit(SEP, 2)
            rejected[number].append((route, reason, t.rejected))
        elif kind == OPERATOR:
            operators[key] = t
        elif kind == HOUR:
            hours[int(key)] = t
    contracts = [
        ContractFigures(key, figures_of(t, rejected.get(key, ())))
        for (_, kind, key), t in merged.items()
        if kind == CONTRACT and t.calls > 0
    ]
    contracts.sort(key=lambda r: (-r.figures.offered, r.contract))
    return RangeFigures(
        contracts=contracts,
        operators=[
            operator_of(op, t)
            for op, t in sorted(operators.items())
            if t.rung > 0 or t.answered > 0
        ],
        hours=[_hour(h, hours.get(h, Tally())) for h in range(24)],
    )


def figures_fields(f: Figures) -> list[Any]:
    """A Figures as a plain list (stored precomputed); `figures_from_fields` reads it."""
    return [getattr(f, name) for name in FIGURES_FIELDS[:-1]] + [[list(r) for r in f.rejected_by]]


def figures_from_fields(fields_: Sequence[Any]) -> Figures:
    *plain, rejected_by = fields_
    args: list[Any] = [*plain, tuple((r, why, n) for r, why, n in rejected_by)]
    return Figures(*args)


@dataclass(frozen=True)
class DaysFigures:
    """A span's days' figures, stored with a whole month's: each day with a tally (its
    figures), and all of them together; `quiet` the days with a tally but no call (a
    callback only), which a calendar could leave out of a report (then these cannot serve)."""

    days: dict[date, Figures]
    total: Figures
    quiet: tuple[date, ...]

    def serves(self, calendar: Calendar) -> bool:
        return all(calendar.is_working_day(d) for d in self.quiet)


def days_figures(merged: Mapping[tuple[date | None, str, str], Tally]) -> DaysFigures:
    day_tally: dict[date, Tally] = {}
    rejected: dict[date, list[tuple[str, str, int]]] = defaultdict(list)
    for (day, kind, key), t in merged.items():
        if kind == DAY and day is not None:
            day_tally[day] = t
        elif kind == DAY_REJECTED and day is not None:
            route, reason = key.split(SEP, 1)
            rejected[day].append((route, reason, t.rejected))
    everything: Counter[tuple[str, str]] = Counter()
    for found in rejected.values():
        for route, reason, n in found:
            everything[(route, reason)] += n
    return DaysFigures(
        days={d: figures_of(t, rejected.get(d, ())) for d, t in day_tally.items()},
        total=figures_of(
            merge_all(list(day_tally.values())),
            ((r, why, n) for (r, why), n in everything.items()),
        ),
        quiet=tuple(sorted(d for d, t in day_tally.items() if t.calls == 0)),
    )


def service_levels(
    merged: Mapping[tuple[date | None, str, str], Tally],
    first: date,
    last: date,
    calendar: Calendar,
    known: RangeFigures | None = None,
    known_days: DaysFigures | None = None,
    contracts_total: int | None = None,
) -> ServiceLevels:
    """The report of [first, last] from the merged tallies of its days (`merge_range`);
    `known`: the range's contracts', operators' and hours' figures computed before
    (`range_figures` of the same tallies, stored with a whole month's), then only the day
    kinds' tallies are needed; `known_days` (the days' figures of exactly [first, last],
    `days_figures`, when they serve the calendar): then no tallies at all.
    `contracts_total`: how many contracts had calls, when `merged` holds only the tallies
    of the ones to list (the store's `top_contracts`); else the contracts found."""
    if known is not None and known_days is not None and known_days.serves(calendar):
        days_shown: list[DayFigures] = []
        quiet = set(known_days.quiet)
        for i in range((last - first).days + 1):
            on = first + timedelta(days=i)
            working = calendar.is_working_day(on)
            if working or (on in known_days.days and on not in quiet):
                days_shown.append(DayFigures(on, working, known_days.days.get(on, Figures())))
        return ServiceLevels(
            first=first, last=last, total=known_days.total, days=days_shown,
            operators=known.operators, contracts=known.contracts, hours=known.hours,
            contracts_total=len(known.contracts),
        )  # fmt: skip
    day_rejected: dict[date, list[tuple[str, str, int]]] = defaultdict(list)
    day_tally: dict[date, Tally] = {}
    for (day, kind, key), t in merged.items():
        if kind == DAY and day is not None:
            day_tally[day] = t
        elif kind == DAY_REJECTED and day is not None:
            route, reason = key.split(SEP, 1)
            day_rejected[day].append((route, reason, t.rejected))
    days: list[DayFigures] = []
    day = first
    while day <= last:
        working = calendar.is_working_day(day)
        found = day_tally.get(day)
        if working or (found is not None and found.calls > 0):
            rejected_by = day_rejected.get(day, ())
            days.append(DayFigures(day, working, figures_of(found or Tally(), rejected_by)))
        day += timedelta(days=1)
    listed = [day_tally[d.day] for d in days if d.day in day_tally]
    total = merge_all(listed)
    rejected: Counter[tuple[str, str]] = Counter()
    for d in days:
        for route, reason, n in d.figures.rejected_by:
            rejected[(route, reason)] += n
    rest = range_figures(merged) if known is None else known
    return ServiceLevels(
        first=first,
        last=last,
        total=figures_of(total, ((r, why, n) for (r, why), n in rejected.items())),
        days=days,
        operators=rest.operators,
        contracts=rest.contracts,
        hours=rest.hours,
        contracts_total=len(rest.contracts) if contracts_total is None else contracts_total,
    )


def _hour(hour: int, t: Tally) -> HourFigures:
    return HourFigures(hour, t.offered, t.answered, t.rejected)
