"""Failed logins, counted per account and per address: past a limit within a window, the
next try waits (429 with Retry-After).

Kept in this process's memory: a restart forgets it, and with several web processes each
counts its own share. That is enough against guessing at human speed through one web app;
the accounts' passwords (argon2, at least 8 characters) carry the rest.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

MAX_KEYS = 100_000  # beyond this many accounts/addresses tracked, the stalest are dropped


@dataclass
class LoginThrottle:
    account_limit: int = 5
    address_limit: int = 20
    window: timedelta = timedelta(minutes=15)
    _failures: dict[str, deque[datetime]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _keys(self, username: str, address: str) -> list[tuple[str, int]]:
        return [(f"u:{username.lower()}", self.account_limit), (f"a:{address}", self.address_limit)]

    def retry_after(self, username: str, address: str, now: datetime) -> int | None:
        """Seconds to wait before this login may be tried, or None if it may now."""
        wait = 0.0
        with self._lock:
            for key, limit in self._keys(username, address):
                times = self._recent(key, now)
                if len(times) >= limit:
                    wait = max(wait, (times[-limit] + self.window - now).total_seconds())
        return max(1, math.ceil(wait)) if wait > 0 else None

    def failed(self, username: str, address: str, now: datetime) -> None:
        with self._lock:
            for key, _ in self._keys(username, address):
                self._failures.setdefault(key, deque(maxlen=max(self.address_limit, 64))).append(
                    now
                )
            while len(self._failures) > MAX_KEYS:
                self._failures.pop(next(iter(self._failures)))

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(f"u:{username.lower()}", None)

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        times = self._failures.get(key, deque())
        while times and times[0] + self.window <= now:
            times.popleft()
        return times
