"""The routing snapshot memoises each contract's effective period (clause 6); a patched
snapshot must not answer from its predecessor's memo."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from callcenter.domain.calendar import Calendar
from callcenter.domain.contracts import Request
from callcenter.domain.phone import normalise
from callcenter.domain.routing import decide_for
from callcenter.domain.terms import TicketKind
from dialplan import snapshot as snapshot_module
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


def test_the_memo_is_bounded_and_answers_the_same_after_starting_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Full, the memo starts again: it never holds every contract's period, and a period
    computed again is the same."""
    monkeypatch.setattr(snapshot_module, "PERIODS", 3)
    phones = [f"+4860123450{i}" for i in range(8)]
    contracts = [
        contract(f"C-{i}", phones=(p,), paid_until=date(2026, 11, 20 + i))
        for i, p in enumerate(phones)
    ]
    memory = RoutingSnapshot(
        cursor=1,
        contracts={c.number: c for c in contracts},
        by_phone={c.phones[0]: (c.number,) for c in contracts},
        requests={},
        grants={},
        calendar=Calendar(),
    )
    for _ in range(2):
        for c in contracts:
            expected = decide_for(normalise(c.phones[0]), NOW, Calendar(), [c])
            assert memory.decide(c.phones[0], NOW, "PL") == expected
            assert len(memory._periods) <= 3
    assert {d.route for d in (memory.decide(p, NOW, "PL") for p in phones)} == {
        "expired",
        "queue",
    }
