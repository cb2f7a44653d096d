"""An AMI event's own time as a hostile or broken stream may give it (domain/calls.py): a
Timestamp that is junk or out of range falls back to the receive time, never raises (the
event would be lost); Asterisk's "<unknown>" for a caller with no name is no name."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from callcenter.domain.calls import arrive, event_time

RECEIVED = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("stamp", ["", "soon", "nan", "inf", "-inf", "1e300", "9" * 400])
def test_a_timestamp_that_is_no_time_falls_back_to_the_receive_time(stamp: str) -> None:
    assert event_time({"Timestamp": stamp}, RECEIVED) == RECEIVED


def test_a_good_timestamp_is_the_events_own_time() -> None:
    at = event_time({"Timestamp": "1764500000.250000"}, RECEIVED)
    assert at == datetime.fromtimestamp(1764500000.25, tz=UTC)


@pytest.mark.parametrize("name", ["<unknown>", "unknown", ""])
def test_asterisks_placeholder_for_no_caller_name_is_no_name(name: str) -> None:
    call = arrive(
        {"Event": "Newchannel", "Uniqueid": "1.1", "Linkedid": "1.1", "CallerIDName": name,
         "CallerIDNum": "+48604567890", "Exten": "800123456"},
        RECEIVED,
    )  # fmt: skip
    assert call is not None and call.caller_name == ""


def test_a_caller_name_that_only_looks_like_the_placeholder_stays() -> None:
    call = arrive(
        {"Event": "Newchannel", "Uniqueid": "1.1", "Linkedid": "1.1",
         "CallerIDName": "<unknown> Sp. z o.o.", "Exten": "800123456"},
        RECEIVED,
    )  # fmt: skip
    assert call is not None and call.caller_name == "<unknown> Sp. z o.o."
