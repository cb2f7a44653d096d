"""Caller numbers: whatever a PBX hands over, normalised to E.164 (clause 3).

The phone number named in the order identifies the caller, so a caller ID and a number in a
contract must normalise to the same string. Withheld and unusable caller IDs are recognised
as such: they decide the `anonymous` route.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers

# What PBXs and carriers put in the caller ID when the number is not presented.
_WITHHELD = frozenset(
    {"", "anonymous", "unknown", "withheld", "private", "restricted", "unavailable", "none"}
)
_ALLOWED = re.compile(r"^[+0-9 ()./-]+$")
_DIGIT = re.compile(r"[0-9]")  # after _ALLOWED, the only digits there are


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
    e164 = _e164(text, region)
    if e164 is None:
        return CallerNumber(raw=text, kind=CallerKind.INVALID)
    return CallerNumber(raw=text, kind=CallerKind.NUMBER, e164=e164)


def _e164(text: str, region: str) -> str | None:
    """The E.164 form of a (stripped) number, or None when it is not a valid number."""
    if not _ALLOWED.match(text) or not _DIGIT.search(text):
        return None
    e164 = _parse(text, region)
    if e164 is None and not text.startswith(("+", "00")):
        # A number with its country code but no plus: 48601234567.
        e164 = _parse("+" + re.sub(r"\D", "", text), region)
    return e164


@functools.lru_cache(maxsize=16_384)  # pure; customers call again
def _parse(text: str, region: str) -> str | None:
    """The number's E.164 form, or None when it is not a valid number: the shortcut's
    answer when it has one (about 2 us), else the phone number library's (about 60 us)."""
    rules = _rules(region)
    if rules is not None:
        found = rules.parse(text)
        if found is not _UNSURE:
            return found
    return library_parse(text, region)


def library_parse(text: str, region: str) -> str | None:
    """The phone number library's reading of `text` (what the shortcut must agree with)."""
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


_UNSURE = "?"  # the shortcut leaves the number to the library
_PLAIN = re.compile(r"\+?[0-9][0-9 -]*")  # digits, spaces and dashes, maybe a leading plus
# The number types a valid number matches one of (phonenumbers' _number_type_helper).
_TYPES = (
    "premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan",
    "voicemail", "fixed_line", "mobile",
)  # fmt: skip


@dataclass(frozen=True)
class _Rules:
    """The region's own numbers, read without the library's general parser: the library's
    patterns for the region (its metadata), compiled once. Only forms whose reading is
    plain are answered (national digits, or the region's country code after + or 00);
    anything else is left to the library. tests/unit/domain/test_phone_shortcut.py checks
    that the answers agree with the library's on many thousands of numbers."""

    code: str  # the country calling code, e.g. "48"
    idd: str  # "00" when the region dials abroad with 00, else "" (no shortcut for it)
    general: re.Pattern[str]
    # By length: the number types' patterns of that length as one alternation (a valid
    # number matches the general pattern and one type's), so one match decides.
    by_length: Mapping[int, re.Pattern[str]]

    def parse(self, text: str) -> str | None:
        if not _PLAIN.fullmatch(text):
            return _UNSURE
        digits = text.replace(" ", "").replace("-", "")
        if digits.startswith("+" + self.code):
            national = digits[1 + len(self.code) :]
        elif self.idd and digits.startswith(self.idd + self.code):
            national = digits[len(self.idd) + len(self.code) :]
        elif digits.startswith(("+", "0", self.code)):
            return _UNSURE  # another country, a trunk or leading zero, a code without a plus
        else:
            national = digits
        if not national or national[0] == "0":
            return _UNSURE
        return f"+{self.code}{national}" if self.valid(national) else None

    def valid(self, national: str) -> bool:
        types = self.by_length.get(len(national))
        return (
            types is not None
            and self.general.fullmatch(national) is not None
            and types.fullmatch(national) is not None
        )


@functools.cache
def _rules(region: str) -> _Rules | None:
    """The shortcut's rules for a region whose numbers need no national prefix stripped
    and whose country code is its alone (Poland: yes), else None."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region.upper())
    if meta is None or meta.national_prefix_for_parsing or meta.national_prefix:
        return None
    code = meta.country_code
    general = meta.general_desc
    if (
        code is None
        or len(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code, ())) != 1
        or meta.same_mobile_and_fixed_line_pattern
        or general is None
        or not general.national_number_pattern
        or not general.possible_length
        or meta.leading_zero_possible
    ):
        return None
    by_length: dict[int, re.Pattern[str]] = {}
    for length in general.possible_length:
        patterns = [
            desc.national_number_pattern
            for desc in (getattr(meta, name) for name in _TYPES)
            if desc is not None
            and desc.national_number_pattern
            and (not desc.possible_length or length in desc.possible_length)
        ]
        if patterns:
            by_length[length] = re.compile("|".join(f"(?:{p})" for p in patterns))
    return _Rules(
        code=str(code),
        idd="00" if meta.international_prefix == "00" else "",
        general=re.compile(general.national_number_pattern),
        by_length=by_length,
    )


def to_e164(raw: str, region: str = "PL") -> str:
    """Strict form for numbers named in an order: raises ValueError unless valid."""
    e164 = _e164(raw.strip(), region)  # a withheld word is not a valid number either
    if e164 is None:
        raise ValueError(f"not a valid phone number: {raw!r}")
    return e164
