"""Caller numbers: whatever a PBX hands over, normalised to E.164 (clause 3).

The phone number named in the order identifies the caller, so a caller ID and a number in a
contract must normalise to the same string. Withheld and unusable caller IDs are recognised
as such: they decide the `anonymous` route.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers

# What PBXs and carriers put in the caller ID when the number is not presented.
_WITHHELD = frozenset(
    {"", "anonymous", "unknown", "withheld", "private", "restricted", "unavailable", "none"}
)
_ALLOWED = re.compile(r"^[+0-9 ()./-]+$")


class CallerKind(StrEnum):
    NUMBER = "number"
    WITHHELD = "withheld"
    INVALID = "invalid"


@dataclass(frozen=True)
class CallerNumber:
    raw: str
    kind: CallerKind
    e164: str | None = None

    @property
    def usable(self) -> bool:
        return self.kind is CallerKind.NUMBER


def presentation_restricted(callingpres: str) -> bool:
    """Asterisk's caller presentation (`agi_callingpres`): bits 0x60 say the number is
    prohibited (32) or unavailable (64), e.g. a carrier's P-Asserted-Identity with
    `Privacy: id`. Such a caller withheld the number even if the PBX knows it."""
    try:
        return bool(int(callingpres) & 0x60)
    except ValueError:
        return False


def normalise(raw: str | None, region: str = "PL", *, presented: bool = True) -> CallerNumber:
    """Turn a caller ID into a CallerNumber: E.164 when it is a valid number.

    Accepts national (`601 234 567`), international (`+48601234567`, `0048601234567`) and
    country-code-without-plus (`48601234567`) forms. A number not `presented` is withheld.
    """
    text = (raw or "").strip()
    if not presented or text.lower() in _WITHHELD:
        return CallerNumber(raw=text, kind=CallerKind.WITHHELD)
    if not _ALLOWED.match(text) or not any(c.isdigit() for c in text):
        return CallerNumber(raw=text, kind=CallerKind.INVALID)
    e164 = _parse(text, region)
    if e164 is None and not text.startswith("+") and not text.startswith("00"):
        # A number with its country code but no plus: 48601234567.
        e164 = _parse("+" + re.sub(r"\D", "", text), region)
    if e164 is None:
        return CallerNumber(raw=text, kind=CallerKind.INVALID)
    return CallerNumber(raw=text, kind=CallerKind.NUMBER, e164=e164)


@functools.lru_cache(maxsize=16_384)  # pure; customers call again, and parsing costs ~20 us
def _parse(text: str, region: str) -> str | None:
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def to_e164(raw: str, region: str = "PL") -> str:
    """Strict form for numbers named in an order: raises ValueError unless valid."""
    number = normalise(raw, region)
    if number.e164 is None:
        raise ValueError(f"not a valid phone number: {raw!r}")
    return number.e164
