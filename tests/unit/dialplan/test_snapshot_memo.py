"""The routing snapshot memoises each contract's effective period (clause 6); a patched
snapshot must not answer from its predecessor's memo."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from callcenter.domain.calendar import Calendar
from callcenter.domain.contracts import Request
from callcenter.domain.phone import normalise
from callcenter.domain.routing import decide_for
from callcenter.domain.terms import TicketKind
from dialplan.snapshot import RoutingSnapshot
from tests.unit.domain.builders import PHONE, at, contract, request

NOW = at(date(2026, 11, 24), 10)  # Tuesday
ENDED = contract(paid_until=date(2026, 11, 23))
# Answered on Friday, due Tuesday 2026-11-03 16:00: three started days late (clause 6).
LATE = request(TicketKind.ANSWER, at(date(2026, 11, 2), 10), at(date(2026, 11, 6), 10))


def snapshot(requests: tuple[Request, ...] = ()) -> RoutingSnapshot:
    return RoutingSnapshot(
        cursor=1,
        contracts={ENDED.number: ENDED},
        by_phone={PHONE: (ENDED.number,)},
        requests={ENDED.number: requests} if requests else {},
        grants={},
        calendar=Calendar(),
    )


def test_the_memoised_period_answers_as_the_rules_do_and_a_patch_starts_afresh() -> None:
    before = snapshot()
    assert before.decide(PHONE, NOW, "PL").route == "expired"
    assert before.decide(PHONE, NOW, "PL").route == "expired"  # from the memo
    assert set(before._periods) == {ENDED.number}

    after = replace(before, cursor=2, requests={ENDED.number: (LATE,)})
    expected = decide_for(normalise(PHONE), NOW, Calendar(), [ENDED], [LATE])
    assert expected.route == "queue"  # the late answer extended the period past today
    assert after.decide(PHONE, NOW, "PL") == expected
    assert before.decide(PHONE, NOW, "PL").route == "expired"  # the old copy is unchanged
