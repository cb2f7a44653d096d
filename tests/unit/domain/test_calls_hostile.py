"""An AMI event's own time as a hostile or broken stream may give it (domain/calls.py): a
Timestamp that is junk or out of range falls back to the receive time, never raises (the
event would be lost)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from callcenter.domain.calls import event_time

RECEIVED = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("stamp", ["", "soon", "nan", "inf", "-inf", "1e300", "9" * 400])
def test_a_timestamp_that_is_no_time_falls_back_to_the_receive_time(stamp: str) -> None:
    assert event_time({"Timestamp": stamp}, RECEIVED) == RECEIVED


def test_a_good_timestamp_is_the_events_own_time() -> None:
    at = event_time({"Timestamp": "1764500000.250000"}, RECEIVED)
    assert at == datetime.fromtimestamp(1764500000.25, tz=UTC)
