"""A blind transfer through Asterisk's features, by a real call: op1 answers, presses # and
2 (features.conf blindxfer; the queue's `t` option), op2's phone rings and answers. The call
stays one entry in the log with both operators rung and op2 as its operator, and the screen
pop moves: op1's pop ends, op2 gets the ringing pop with the caller's contract.
The same scenario recorded and replayed: tests/fixtures/ami/transferred.jsonl."""

from __future__ import annotations

import sys

import pytest
from asterisk_harness import AmiEvents, Operator, run_caller
from conftest_asterisk import local_asterisk
from test_calls_asterisk import TUESDAY_9, Lab, decision_of, lab

__all__ = ["lab", "local_asterisk"]

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="local Asterisk runs on Linux"),
    pytest.mark.asterisk,
    pytest.mark.timeout(600),
]


def test_a_blind_transfer_keeps_one_call_and_moves_the_pop(lab: Lab) -> None:
    agi = lab.agi(TUESDAY_9).start("fastagi listening")
    try:
        with (
            AmiEvents() as ami,
            Operator(1, "transfer", ring_seconds=1.5, transfer_to=2) as op1,
            Operator(2, "answer", ring_seconds=5.0),
        ):
            result = run_caller(
                number="+48601000001", display_name="Przekazany Piotr", hold_seconds=32,
                timeout=90,
            ).check()  # fmt: skip
            decision = decision_of(ami, "+48601000001")
            assert any(event == "TRANSFERRED" for event, _ in op1.events()), op1.events()
    finally:
        agi.stop()
    assert result.hung_up_by == "caller"
    linkedid = decision["Linkedid"]
    logged = lab.call(linkedid)
    assert len([c for c in lab.calls() if c["linkedid"] == linkedid]) == 1  # one entry
    assert (logged["outcome"], logged["operator"], logged["contract"]) == ("answered", "op2", "L-1")
    answered = [r["operator"] for r in logged["rings"] if r["result"] == "answered"]
    assert answered == ["op1", "op2"]  # op1 took the call, then op2 from op1
    pops = [
        p
        for p in lab.listener.pops  # type: ignore[union-attr]
        if p["linkedid"] == linkedid and p["endpoint"] in ("op1", "op2")
    ]
    kinds = [(p["kind"], p["endpoint"]) for p in pops]
    handed = kinds.index(("ended", "op1"))  # op1 let go when op2's phone began to ring
    assert kinds[:handed].count(("answered", "op1")) == 1
    assert kinds[handed + 1 : handed + 3] == [("ringing", "op2"), ("answered", "op2")]
    assert pops[handed + 1]["contract"]["number"] == "L-1"  # the contract moved with the caller
