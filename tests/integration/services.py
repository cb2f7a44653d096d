"""Run callcenter's own services as real processes for tests: `callcenter agi` (optionally
under libfaketime, at a chosen Warsaw hour) and `callcenter listen`, with their logs kept."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

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
        deadline = time.monotonic() + timeout
        while needle not in self.text():
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.args} exited: {self.text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{self.args}: no {needle!r} in {timeout} s: {self.text()[-3000:]}"
                )
            time.sleep(0.1)

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
        deadline = time.monotonic() + timeout
        while _group_alive(process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
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


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0
