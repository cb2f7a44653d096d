"""Run callcenter's own services as real processes for tests: `callcenter agi` (optionally
under libfaketime, at a chosen Warsaw hour) and `callcenter listen`, with their logs kept; read
the call log through the real `callcenter` command and wait for a call's row there."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tests.support.faketime import remove_leftovers
from tests.support.waits import wait_for

CALLCENTER = str(Path(sys.executable).with_name("callcenter"))


class Service:
    """One `callcenter ...` process; `faketime` ("2026-11-24 09:00:00", Warsaw) fakes its clock."""

    def __init__(
        self,
        args: list[str],
        env: Mapping[str, str],
        log: Path,
        faketime: str | None = None,
    ) -> None:
        self.args, self.env, self.log, self.faketime = args, dict(env), log, faketime
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, ready: str, timeout: float = 30.0) -> Service:
        command = [CALLCENTER, *self.args]
        env = {**os.environ, **self.env}
        if self.faketime is not None:
            faketime = shutil.which("faketime")
            if faketime is None:
                raise RuntimeError("faketime is not installed: run scripts/setup")
            command = [faketime, "-f", f"@{self.faketime}", *command]
            env.update(TZ="Europe/Warsaw", FAKETIME_DONT_FAKE_MONOTONIC="1")
        self.offset = self.log.stat().st_size if self.log.exists() else 0
        out = self.log.open("ab")
        self.process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        out.close()
        try:
            self.wait_for(ready, timeout)
        except BaseException:
            self.stop()  # never leave it running (it would hold its port for later tests)
            raise
        return self

    def text(self) -> str:
        return self.log.read_bytes()[self.offset :].decode("utf-8", errors="replace")

    def wait_for(self, needle: str, timeout: float = 30.0) -> None:
        """Until the service's log (since it started) has `needle`; RuntimeError at once
        if the process exits first."""

        def written() -> bool:
            if needle in self.text():
                return True
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.args} exited: {self.text()[-3000:]}")
            return False

        wait_for(
            written,
            timeout,
            f"{needle!r} in the log of callcenter {' '.join(self.args)}",
            every=0.1,
            last=lambda: self.text()[-3000:],
        )

    def stop(self, timeout: float = 30.0) -> int | None:
        process, self.process = self.process, None
        if process is None:
            return None
        # The whole process group: faketime runs the service as its child.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)
        wait_for(
            lambda: not _group_alive(process.pid),
            timeout,
            f"every process of callcenter {' '.join(self.args)} gone (faketime's child too)",
        )
        if self.faketime is not None:
            remove_leftovers(process.pid)
        return process.returncode


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def cli_json(env: Mapping[str, str], *args: str) -> object:
    """`callcenter ARGS --json`, the real console script."""
    done = subprocess.run(
        [CALLCENTER, *args, "--json"], env={**os.environ, **env}, capture_output=True,
        text=True, timeout=60, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"callcenter {' '.join(args)}: {done.stderr}")
    return json.loads(done.stdout)


def logged_call(
    env: Mapping[str, str],
    linkedid: str,
    timeout: float = 30.0,
    until: Callable[[dict[str, Any]], bool] = lambda call: call["state"] == "ended",
    what: str = "ended",
) -> dict[str, Any]:
    """The call's row in the call log (`callcenter calls list --json`) once `until` holds
    for it (by default: the call has ended). The row must be there at most once."""
    seen: list[dict[str, Any]] = []

    def found() -> dict[str, Any] | None:
        calls = cli_json(env, "calls", "list")
        assert isinstance(calls, list)
        seen[:] = [c for c in calls if c["linkedid"] == linkedid]
        assert len(seen) <= 1, f"call {linkedid} logged more than once: {seen}"
        return seen[0] if seen and until(seen[0]) else None

    return wait_for(found, timeout, f"call {linkedid} {what} in the call log", every=0.2,
                    last=lambda: seen or "no row")  # fmt: skip


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0
