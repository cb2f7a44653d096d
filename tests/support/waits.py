"""Bounded waits on facts, for tests, their harnesses and benchmarks (stdlib only).

A test that needs something to have happened (an AMI event, a call-log row, a port open, a
line in a file, a process gone) waits for exactly that, up to a deadline, and fails naming
what never happened and the deadline. Never a fixed sleep in its place: on a fast machine it
wastes time, on a busy one it is too short and the test fails for nothing.

    row = wait_for(lambda: store_row(linkedid), 30, f"call {linkedid} in the call log")
    await until(lambda: service.snapshot is not None, 10, "the routing snapshot loaded")
    wait_for_port(("127.0.0.1", 4573), 10, "the routing service listening")
    match = wait_for_line(log_file, r"resync done", offset=size, timeout=10)

The predicate is asked again every `every` seconds (that pause is the poll's, not a wait
for something); what it returns when truthy is handed back. An exception it raises (e.g. "the
process exited") ends the wait at once.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


class NeverHappenedError(AssertionError):
    """What a test waited for did not happen before its deadline."""

    def __init__(self, what: str, timeout: float, last: object = None) -> None:
        message = f"{what}: not seen within {timeout:g} s"
        if last is not None:
            text = repr(last) if not isinstance(last, str) else last
            message += f"; last seen: {text[-2000:]}"
        super().__init__(message)
        self.what, self.timeout = what, timeout


def wait_for(
    predicate: Callable[[], T],
    timeout: float,
    what: str,
    *,
    every: float = 0.05,
    last: Callable[[], object] | None = None,
) -> T:
    """`predicate()` once it is truthy; NeverHappenedError (naming `what`, the deadline and, with
    `last`, what was seen instead) when `timeout` seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        left = deadline - time.monotonic()
        if left <= 0:
            raise NeverHappenedError(what, timeout, last() if last is not None else None)
        time.sleep(min(every, left))


async def until(
    predicate: Callable[[], T],
    timeout: float,
    what: str,
    *,
    every: float = 0.02,
    last: Callable[[], object] | None = None,
) -> T:
    """`wait_for` inside an event loop: the loop runs on between the checks."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        left = deadline - time.monotonic()
        if left <= 0:
            raise NeverHappenedError(what, timeout, last() if last is not None else None)
        await asyncio.sleep(min(every, left))


# --- ports ---------------------------------------------------------------------------------


def port_accepts(address: tuple[str, int], timeout: float = 1.0) -> bool:
    """Does something accept TCP connections there?"""
    try:
        with socket.create_connection(address, timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(address: tuple[str, int], timeout: float, what: str | None = None) -> None:
    """Until something accepts TCP connections at `address`."""
    host, port = address
    wait_for(
        lambda: port_accepts(address, timeout=min(1.0, timeout)),
        timeout,
        what or f"something listening on {host}:{port}",
        every=0.1,
    )


def wait_for_port_closed(address: tuple[str, int], timeout: float, what: str | None = None) -> None:
    """Until nothing accepts TCP connections at `address` any more."""
    host, port = address
    wait_for(
        lambda: not port_accepts(address, timeout=min(1.0, timeout)),
        timeout,
        what or f"{host}:{port} closed",
        every=0.1,
    )


# --- files ---------------------------------------------------------------------------------


def read_from(path: Path, offset: int = 0) -> str:
    """What `path` holds after byte `offset` ("" while it does not exist)."""
    try:
        with path.open("rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def wait_for_line(
    path: Path,
    pattern: str,
    *,
    offset: int = 0,
    timeout: float,
    what: str | None = None,
) -> re.Match[str]:
    """The first match of the regex `pattern` in `path` after byte `offset`, once written."""
    regex = re.compile(pattern, re.MULTILINE)
    return wait_for(
        lambda: regex.search(read_from(path, offset)),
        timeout,
        what or f"{pattern!r} in {path}",
        every=0.1,
        last=lambda: read_from(path, offset)[-1000:] or "(nothing written)",
    )
