"""FastAGI requests and answers as they really come (dialplan/protocol.py): the script from
agi_request alone, a failed command, a multi-line usage answer, odd bytes in a header."""

from __future__ import annotations

import pytest

from dialplan.protocol import ProtocolError, parse_headers, parse_result, usage_result


def test_the_script_comes_from_agi_request_when_agi_network_script_is_missing() -> None:
    request = parse_headers(
        b"agi_request: agi://127.0.0.1:4573/route?x=1\nagi_arg_1: 601234567\n\n"
    )
    assert request.script == "route"
    assert request.query == {"x": "1"}
    assert request.args == ["601234567"]


def test_agi_network_script_wins_over_agi_request() -> None:
    request = parse_headers(b"agi_network_script: route\nagi_request: agi://h/other\n\n")
    assert request.script == "route"


def test_a_request_naming_no_script_at_all_is_refused() -> None:
    with pytest.raises(ProtocolError, match="no agi_network_script or agi_request"):
        parse_headers(b"agi_channel: PJSIP/x\n\n")


@pytest.mark.parametrize("odd", ["\r", "\u2028", "\x1c", "\x0b", "\x85"])
def test_a_caller_name_with_what_splitlines_breaks_at_stays_one_value(odd: str) -> None:
    block = f"agi_network_script: route\nagi_calleridname: A{odd}B\r\nagi_arg_1: 1\n\n"
    request = parse_headers(block.encode())
    assert request.get("agi_calleridname") == f"A{odd}B"
    assert request.args == ["1"]


@pytest.mark.parametrize(
    ("line", "ok"),
    [(b"200 result=1\n", True), (b"200 result=0\n", True), (b"200 result=-1\n", False),
     (b"200 result=-1 (error)\n", False), (b"510 Invalid or unknown command\n", False)],
)  # fmt: skip
def test_result_minus_one_is_a_failed_command(line: bytes, ok: bool) -> None:
    assert parse_result(line).ok is ok


def test_a_usage_answer_is_one_failed_result_with_its_text() -> None:
    result = usage_result(
        b"520-Invalid command syntax.  Proper usage follows:\n",
        [b"Usage: SET VARIABLE <variablename> <value>\n", b"520 End of proper usage.\n"],
    )
    assert (result.code, result.ok) == (520, False)
    assert result.text == (
        "520-Invalid command syntax.  Proper usage follows: | "
        "Usage: SET VARIABLE <variablename> <value> | 520 End of proper usage."
    )
