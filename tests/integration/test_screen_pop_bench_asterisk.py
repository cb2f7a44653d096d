"""bench/screen_pop.py runs end to end with one real call: the local Asterisk, sipp, the
service, a WebSocket client and headless Chromium; every figure of its report arrives and
every process it started is gone afterwards. (The figures themselves are the bench's to
report, not this test's to judge.)"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from asterisk_harness import LocalAsterisk

from tests.support.waits import wait_for

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="local Asterisk runs on Linux"),
    pytest.mark.asterisk,
    pytest.mark.browser,
    pytest.mark.timeout(300),
]

BENCH = Path(__file__).resolve().parents[2] / "bench" / "screen_pop.py"
PROCESSES = BENCH.with_name("screen_pop_processes.py")  # its service and its client
FIGURE = re.compile(r"^ {4}(\S.*?)\s+p50 +-?[\d.]+ ms +p99 +-?[\d.]+ ms +max +-?[\d.]+ ms$")


def _bench_processes() -> list[str]:
    """Command lines of the bench's own processes still alive (its server and client)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = proc.read_bytes().split(b"\0")
        except OSError:
            continue
        text = b" ".join(args).decode(errors="replace")
        if str(PROCESSES) in text:
            found.append(text)
    return found


def test_the_screen_pop_bench_measures_a_real_call_in_every_column() -> None:
    asterisk = LocalAsterisk()
    was_running = asterisk.is_running()
    done = subprocess.run(
        [sys.executable, str(BENCH), "--calls", "1", "--warmup", "0"],
        capture_output=True, text=True, timeout=240, check=False,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    figures = {m[1] for line in done.stdout.splitlines() if (m := FIGURE.match(line))}
    assert figures == {
        "baseline: server's send -> client",
        "pop: AgentCalled -> client",
        "baseline: server's send -> DOM",
        "baseline: server's send -> next frame",
        "pop: AgentCalled -> DOM",
        "pop: AgentCalled -> next frame",
        "AgentCalled -> the listener takes it",
        "the listener -> the pop in the hub (contract read)",
        "the hub -> the WebSocket client",
        "the hub -> Chromium's DOM",
        "AgentCalled Timestamp -> bench's AMI reader",
    }, done.stdout
    assert "missing" not in done.stdout
    # the bench has stopped its server and client (a stopped process may take a moment to go)
    wait_for(
        lambda: _bench_processes() == [], 20, "the bench's processes gone", last=_bench_processes
    )
    assert asterisk.is_running() == was_running  # started and stopped, or left as found
