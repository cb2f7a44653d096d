"""The operator's screen names every route, reason, plan and kind in Polish words."""

from __future__ import annotations

from callcenter.domain.calls import PopKind
from callcenter.domain.contracts import ExtensionCause
from callcenter.domain.terms import Plan, Reason, Route, TicketKind
from callcenter.web import words


def test_every_code_the_screen_shows_has_its_polish_words() -> None:
    assert set(words.REASONS) == {r.value for r in Reason}
    assert set(words.ROUTES) == {r.value for r in Route}
    assert set(words.PLANS) == {p.value for p in Plan}
    assert set(words.KINDS) == {k.value for k in TicketKind}
    assert set(words.EXTENSION_CAUSES) == {c.value for c in ExtensionCause}
    assert set(words.POP_STATES) == {k.value for k in PopKind}


def test_the_managers_review_names_every_state_outcome_and_attempt_result_in_polish() -> None:
    from callcenter.domain.breaches import CallbackStanding, TicketStanding
    from callcenter.domain.call_values import Outcome
    from callcenter.domain.callbacks import AttemptResult

    assert set(words.TICKET_STATES) == {s.value for s in TicketStanding}
    assert set(words.CALLBACK_STATES) == {s.value for s in CallbackStanding}
    assert {o.value for o in Outcome} <= set(words.OUTCOMES)
    assert set(words.ATTEMPT_OUTCOMES) == {r.value for r in AttemptResult}


def test_the_call_log_names_every_outcome_ring_result_and_step_in_polish() -> None:
    from callcenter.domain.call_values import Outcome, RingResult
    from callcenter.domain.callbacks import AttemptResult
    from callcenter.domain.timeline import StepKind

    assert set(words.OUTCOMES) == {o.value for o in Outcome} | {r.value for r in AttemptResult}
    assert set(words.RING_RESULTS) == {r.value for r in RingResult}
    assert set(words.STEPS) == {k.value for k in StepKind}
    assert set(words.DIRECTIONS) == {"inbound", "callback"}
