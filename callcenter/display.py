"""Text from outside (caller names, CSV fields, contract numbers) shown as written.

Whatever a caller, a CSV file or a command line gives us is printed as text, never read as
rich markup (`[bold]`, `[/]`, `[link=...]`), emoji codes (`:smile:`) or terminal control: a
control character (ESC of an ANSI sequence, a carriage return, a backspace, a line break) and
the Unicode controls that reorder or break lines are shown as their escape (`\\x1b`, `\\n`,
`\\u202e`), so what is on the screen is what was given, one value on one line.
"""

from __future__ import annotations

import unicodedata

from rich.text import Text

# Format characters that reorder text or break lines (bidi overrides and isolates, line and
# paragraph separators); other format characters (a zero-width joiner in an emoji) stay.
_REORDERING = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F)}
_BREAKING = {"\u2028", "\u2029", "\x85"}


def _shown(ch: str) -> str:
    if ch in _REORDERING or ch in _BREAKING or unicodedata.category(ch) == "Cc":
        return ch.encode("unicode_escape").decode("ascii")
    return ch


def visible(value: object) -> str:
    """`value` as a string with its control characters escaped (`\\x1b`, `\\n`)."""
    text = "" if value is None else str(value)
    if text.isprintable():  # the common case: nothing to escape (spaces are printable)
        return text
    return "".join(_shown(ch) for ch in text)


def plain(value: object, style: str = "") -> Text:
    """A rich `Text` of `value` as written: never parsed as markup or emoji codes."""
    return Text(visible(value), style=style, end="")
