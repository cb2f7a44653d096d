"""The FastAGI wire format: the commands that carry the routing answer to Asterisk.

(That Asterisk 22 reads them as meant is tested with real calls in
tests/integration/test_asterisk_smoke.py, both encodings.)"""

from __future__ import annotations

import pytest

from dialplan.protocol import parse_result, set_variable, set_variables

ANSWER = {
    "CC_ROUTE": "limit_reached",
    "CC_REASON": "answers_used",
    "CC_CONTRACT": "2026/007 Łódź",
    "CC_CALL": "1764500000.17",
    "CC_NEXT_OPEN": "2026-11-25T08:00:00+01:00",
}


def test_plain_values_travel_in_one_mset_command() -> None:
    assert set_variables(ANSWER) == [
        'EXEC MSet "CC_ROUTE=limit_reached,CC_REASON=answers_used,CC_CONTRACT=2026/007 Łódź,'
        'CC_CALL=1764500000.17,CC_NEXT_OPEN=2026-11-25T08:00:00+01:00"\n'.encode()
    ]


def test_an_empty_value_is_set_empty() -> None:
    assert set_variables({"CC_CONTRACT": "", "CC_ROUTE": "anonymous"}) == [
        b'EXEC MSet "CC_CONTRACT=,CC_ROUTE=anonymous"\n'
    ]


@pytest.mark.parametrize("awkward", ["K/7, (b)", "A=B", 'say "x"', "a\\b", "[x]", "${EVIL}"])
def test_a_value_mset_would_read_as_syntax_falls_back_to_one_command_each(awkward: str) -> None:
    commands = set_variables({**ANSWER, "CC_CONTRACT": awkward})
    assert commands == [set_variable(name, value) for name, value in
                        {**ANSWER, "CC_CONTRACT": awkward}.items()]  # fmt: skip
    assert all(c.startswith(b"SET VARIABLE ") and c.endswith(b'"\n') for c in commands)


def test_set_variable_keeps_the_command_on_one_line_and_inside_its_quotes() -> None:
    assert set_variable("CC_CONTRACT", 'a "b"\\\nc') == b'SET VARIABLE CC_CONTRACT "a b c"\n'


@pytest.mark.parametrize(
    ("line", "code", "result"),
    [(b"200 result=0\n", 200, "0"), (b"200 result=1 (timeout)\n", 200, "1"),
     (b"510 Invalid or unknown command\n", 510, "")],
)  # fmt: skip
def test_result_lines(line: bytes, code: int, result: str) -> None:
    parsed = parse_result(line)
    assert (parsed.code, parsed.result) == (code, result)
