"""The pure parts of the AMI connection (callcenter/pbx/ami.py): the reconnect backoff."""

from __future__ import annotations

import pytest

from callcenter.pbx.ami import Backoff


def test_backoff_grows_exponentially_up_to_the_maximum() -> None:
    backoff = Backoff(initial=0.5, maximum=30.0, factor=2.0, jitter=0.0)
    assert [backoff.delay(n, 0.0) for n in range(8)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert backoff.delay(10_000, 0.0) == 30.0  # no overflow however long it has failed


@pytest.mark.parametrize("attempt", [0, 3, 50])
def test_jitter_takes_off_at_most_its_share(attempt: int) -> None:
    backoff = Backoff(initial=1.0, maximum=8.0, jitter=0.5)
    base = backoff.delay(attempt, 0.0)
    assert backoff.delay(attempt, 0.999) == pytest.approx(base * 0.5005)
    assert base * 0.5 <= backoff.delay(attempt, 0.3) <= base
