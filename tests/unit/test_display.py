"""Outside text shown as written (callcenter/display.py): no markup, controls escaped."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from callcenter.display import plain, visible


@pytest.mark.parametrize(
    "text",
    ["[bold]x[/]", "[/]", "[link=https://evil.example]x[/link]", ":smile:", "a\\", "Zażółć 😀"],
)
def test_printable_text_is_kept_as_it_is(text: str) -> None:
    assert visible(text) == text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        ("a\nb\rc\td", "a\\nb\\rc\\td"),
        ("bell\x07back\x08", "bell\\x07back\\x08"),
        ("\x9b31m", "\\x9b31m"),  # the 8-bit CSI
        ("abc\u202edef", "abc\\u202edef"),  # right-to-left override
        ("line\u2028sep", "line\\u2028sep"),
    ],
)
def test_control_characters_are_shown_as_their_escapes(text: str, shown: str) -> None:
    assert visible(text) == shown


def test_a_zero_width_joiner_in_an_emoji_stays() -> None:
    family = "\U0001f468\u200d\U0001f469"
    assert visible(family) == family


def test_none_is_shown_empty() -> None:
    assert visible(None) == ""


def test_plain_text_is_printed_as_written_by_a_console_with_markup_on() -> None:
    out = io.StringIO()
    console = Console(file=out, width=200, force_terminal=True, color_system="standard")
    console.print(plain("[bold]x[/] [/] :smile: \x1b[2J"))
    text = out.getvalue()
    assert "[bold]x[/] [/] :smile: \\x1b[2J" in text
    assert "\x1b[2J" not in text and "\x1b[1m" not in text  # no bold, no screen clear
