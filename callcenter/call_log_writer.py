"""The one batch writer of the call log, for the listener and the routing service.

Theory of operation: entries are added by key (a call's Linkedid); a newer entry for the same
key replaces the one still waiting. One task gathers what arrives for `gather` seconds, then
writes a batch (at most `limit` entries) through `write`, the caller's function (a thread or a
process of its own does the database work). A failed batch is judged by its error:

- the database could not be reached (a lost connection, a locked file, a dead writer
  process): the same batch is retried with capped backoff, with the newest entries of its
  keys, until it is written: no call is lost while the database is away;
- anything else is taken as a row the database refuses: the batch is split in halves, each
  written on its own, so the good rows go in; a single entry that still fails is tried
  again a few times (a race with the other writer heals so), then set aside, logged loudly
  with its key, and kept for the shutdown report. A later entry for the same key (the call
  moved on) is tried again.

The store fits caller-given text to its columns first (store/types.py `Fitted`), so setting
aside is the last line, not the usual path. `close` reports exactly what was not written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

log = logging.getLogger(__name__)

T = TypeVar("T")
RETRY_CAP = 5.0
SINGLE_TRIES = 3  # a lone entry the database refuses this many times is set aside

# Errors that say the database (or the writer) was away, not that a row is bad.
UNREACHABLE: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    PoolTimeout,
    BrokenProcessPool,
    ConnectionError,
    TimeoutError,
)


class BatchError(Exception):
    """A batch's error carried across a process boundary: whether the database was away,
    and what it said (a driver's exception may not survive pickling)."""

    def __init__(self, unreachable: bool, error: str) -> None:
        super().__init__(unreachable, error)
        self.unreachable = unreachable
        self.error = error

    def __str__(self) -> str:
        return self.error


def unreachable(exc: BaseException) -> bool:
    """True when `exc` says the database could not be reached (retry the same batch)."""
    if isinstance(exc, BatchError):
        return exc.unreachable
    return isinstance(exc, UNREACHABLE)


def portable(exc: BaseException) -> BatchError:
    """`exc` as a BatchError that pickles (for a writer in another process)."""
    return BatchError(unreachable(exc), repr(exc))


@dataclass(frozen=True)
class SetAside(Generic[T]):
    key: str
    entry: T
    error: str


@dataclass
class Report(Generic[T]):
    """What the writer did: entries written, set aside (the database refused them), and
    left unwritten at shutdown (the database was away until the end)."""

    written: int = 0
    set_aside: dict[str, SetAside[T]] = field(default_factory=dict)
    unwritten: list[T] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.set_aside and not self.unwritten


class CallLogWriter(Generic[T]):
    def __init__(
        self,
        write: Callable[[list[T]], Awaitable[None]],
        key: Callable[[T], str],
        *,
        name: str,
        gather: float,
        limit: int | None = None,
        first_delay: float = 0.1,
    ) -> None:
        self._write = write
        self._key = key
        self.name = name
        self.gather = gather
        self.limit = limit
        self.first_delay = first_delay
        self.pending: dict[str, T] = {}
        self.in_flight: dict[str, T] = {}  # taken from pending, not yet written or set aside
        self.report: Report[T] = Report()
        self.task: asyncio.Task[None] | None = None

    @property
    def written(self) -> int:
        return self.report.written

    def add(self, entry: T) -> None:
        key = self._key(entry)
        self.pending[key] = entry
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._run(), name=self.name)

    async def _run(self) -> None:
        while self.pending:
            await asyncio.sleep(self.gather)  # one batch for the entries of a busy moment
            keys = list(self.pending)[: self.limit]
            batch = [self.pending.pop(k) for k in keys]
            self.in_flight.update(zip(keys, batch, strict=True))
            await self._write_until_done(batch)

    async def _write_until_done(self, batch: list[T]) -> None:
        delay = self.first_delay
        refused = 0
        while True:
            try:
                await self._write(batch)
            except Exception as exc:  # judged below: retried, split or set aside
                if unreachable(exc):
                    log.warning(
                        "call log write failed writer=%s calls=%d first=%s error=%r; retrying",
                        self.name, len(batch), self._key(batch[0]), exc,
                    )  # fmt: skip
                elif len(batch) > 1:
                    await self._split(batch, exc)
                    return
                else:
                    refused += 1
                    if refused >= SINGLE_TRIES:
                        self._set_aside(batch[0], exc)
                        return
                    # A race (the other writer inserted the same call first) heals on a
                    # second try; a value the database refuses fails every time.
                    log.warning(
                        "call log entry refused writer=%s call=%s error=%r; trying again",
                        self.name, self._key(batch[0]), exc,
                    )  # fmt: skip
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_CAP)
                # Newer states of the same calls replace the failed ones.
                batch = [self.pending.pop(self._key(e), e) for e in batch]
                self.in_flight.update((self._key(e), e) for e in batch)
                continue
            self._written(batch)
            return

    async def _split(self, batch: list[T], exc: BaseException) -> None:
        log.warning(
            "call log batch refused writer=%s calls=%d error=%r; writing it in halves",
            self.name, len(batch), exc,
        )  # fmt: skip
        middle = len(batch) // 2
        for half in (batch[:middle], batch[middle:]):
            await self._write_until_done(half)

    def _set_aside(self, entry: T, exc: BaseException) -> None:
        key = self._key(entry)
        self.report.set_aside[key] = SetAside(key, entry, repr(exc))
        self.in_flight.pop(key, None)
        log.error(
            "call log entry set aside writer=%s call=%s error=%r entry=%r",
            self.name, key, exc, entry,
        )  # fmt: skip

    def _written(self, batch: list[T]) -> None:
        self.report.written += len(batch)
        for entry in batch:
            self.in_flight.pop(self._key(entry), None)
            self.report.set_aside.pop(self._key(entry), None)  # a newer state went in

    async def flush(self, timeout: float = 30.0) -> None:
        """Wait until every entry added so far is written or set aside."""
        async with asyncio.timeout(timeout):
            while self.pending or (self.task is not None and not self.task.done()):
                if self.task is not None and not self.task.done():
                    await asyncio.shield(self.task)
                elif self.pending:  # the task ended with entries left (it was cancelled)
                    self.task = asyncio.create_task(self._run(), name=self.name)

    async def close(self, timeout: float = 30.0) -> Report[T]:
        """Write what is pending, then report exactly what was not written (logged in
        full, one line per entry)."""
        try:
            await self.flush(timeout)
        except TimeoutError:
            if self.task is not None:
                self.task.cancel()
                await asyncio.gather(self.task, return_exceptions=True)
        # What a cancelled write held, unless a newer entry of the same call waits.
        left = {**self.in_flight, **self.pending}
        self.report.unwritten = list(left.values())
        self.pending.clear()
        self.in_flight.clear()
        for entry in self.report.unwritten:
            log.error("call log entry not written writer=%s call=%s entry=%r",
                      self.name, self._key(entry), entry)  # fmt: skip
        for aside in self.report.set_aside.values():
            log.error("call log entry set aside, not written writer=%s call=%s error=%s entry=%r",
                      self.name, aside.key, aside.error, aside.entry)  # fmt: skip
        if self.report.complete:
            log.info("call log complete writer=%s written=%d", self.name, self.report.written)
        else:
            log.error(
                "call log incomplete writer=%s written=%d set_aside=%d unwritten=%d",
                self.name, self.report.written, len(self.report.set_aside),
                len(self.report.unwritten),
            )  # fmt: skip
        return self.report
