"""Failed-login throttling: per account and per address, within a sliding window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from callcenter.web.throttle import LoginThrottle

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def test_an_account_waits_after_its_limit_until_the_oldest_failure_leaves() -> None:
    throttle = LoginThrottle(account_limit=3, address_limit=100, window=timedelta(minutes=10))
    for i in range(3):
        assert throttle.retry_after("op1", "10.0.0.1", T0 + timedelta(minutes=i)) is None
        throttle.failed("op1", "10.0.0.1", T0 + timedelta(minutes=i))
    assert throttle.retry_after("op1", "10.0.0.2", T0 + timedelta(minutes=3)) == 7 * 60
    assert throttle.retry_after("OP1", "10.0.0.3", T0 + timedelta(minutes=9)) == 60
    assert throttle.retry_after("op1", "10.0.0.1", T0 + timedelta(minutes=10)) is None
    assert throttle.retry_after("op2", "10.0.0.9", T0 + timedelta(minutes=3)) is None


def test_an_address_waits_after_its_limit_across_accounts() -> None:
    throttle = LoginThrottle(account_limit=100, address_limit=4, window=timedelta(minutes=15))
    for i in range(4):
        throttle.failed(f"guess{i}", "10.0.0.1", T0)
    assert throttle.retry_after("op1", "10.0.0.1", T0 + timedelta(seconds=1)) == 15 * 60 - 1
    assert throttle.retry_after("op1", "10.0.0.2", T0 + timedelta(seconds=1)) is None


def test_a_success_clears_the_accounts_count_but_not_the_addresss() -> None:
    throttle = LoginThrottle(account_limit=2, address_limit=3, window=timedelta(minutes=15))
    throttle.failed("op1", "10.0.0.1", T0)
    throttle.failed("op1", "10.0.0.1", T0)
    throttle.succeeded("op1")
    assert throttle.retry_after("op1", "10.0.0.2", T0) is None
    throttle.failed("op2", "10.0.0.1", T0)
    assert throttle.retry_after("op3", "10.0.0.1", T0) is not None
