"""The shortcut that reads a region's own numbers without the phone number library's general
parser gives the library's answer: on many thousands of numbers of every shape it takes,
and it leaves every other shape to the library."""

from __future__ import annotations

import random

import pytest

from callcenter.domain.phone import _UNSURE, _rules, library_parse, normalise


def shapes(rng: random.Random, count: int) -> list[str]:
    """Numbers as people write them: national, +48, 0048, with spaces and dashes, of every
    length around a real one's, starting with every digit; some foreign."""
    found = []
    for _ in range(count):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 12)))
        prefix = rng.choice(["", "", "+48", "0048", "48", "+49", "+4", "00", "0", "+"])
        text = prefix + digits
        if rng.random() < 0.3:  # separators
            cut = rng.randint(1, max(1, len(text) - 1))
            text = text[:cut] + rng.choice([" ", "-", "  ", " - "]) + text[cut:]
        found.append(text)
    return found


@pytest.mark.parametrize("seed", range(4))
def test_the_shortcut_agrees_with_the_library_on_random_numbers(seed: int) -> None:
    rules = _rules("PL")
    assert rules is not None
    answered = 0
    for text in shapes(random.Random(seed), 20_000):
        found = rules.parse(text)
        if found is not _UNSURE:
            answered += 1
            assert found == library_parse(text, "PL"), text
    assert answered > 5_000  # it does take the plain ones


def test_the_shortcut_agrees_on_every_prefix_of_polish_numbers() -> None:
    """Every three-digit start of a nine-digit national number (mobile, fixed, premium,
    toll-free, ...), in each form the shortcut reads."""
    rules = _rules("PL")
    assert rules is not None
    rng = random.Random(7)
    answered = 0
    for start in range(100, 1000):
        national = f"{start}{rng.randrange(10**6):06d}"
        for text in (
            national,
            "+48" + national,
            "0048" + national,
            f"+48 {national[:2]} {national[2:]}",
        ):
            found = rules.parse(text)
            assert found is _UNSURE or found == library_parse(text, "PL"), text
            answered += found is not _UNSURE and found is not None
    assert answered > 1_500  # valid numbers among them, not only refusals


def test_what_the_shortcut_leaves_to_the_library_is_still_read() -> None:
    rules = _rules("PL")
    assert rules is not None
    for text in ("+49 30 1234567", "48601234567", "(22) 123 45 67", "022 123 45 67"):
        assert rules.parse(text) is _UNSURE
    assert normalise("+49 30 1234567").e164 == "+49301234567"
    assert normalise("48601234567").e164 == "+48601234567"


def test_a_region_with_a_national_prefix_has_no_shortcut() -> None:
    assert _rules("DE") is None  # 030 ...: the trunk prefix is the library's to strip
    assert normalise("030 1234567", "DE").e164 == "+49301234567"
