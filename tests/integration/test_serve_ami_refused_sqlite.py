"""`callcenter serve` when the AMI refuses its login (a wrong secret, a locked account), on
SQLite, against a loopback AMI that refuses every login: callers come first. The listener
says so loudly (an error line per attempt, at a capped rate) and keeps retrying with capped
backoff, while the routing service keeps answering and the web app keeps serving, well past
the point where serve used to stop everything (five refusals, about 9 s)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
from services import Service

from callcenter.store import db, migrate
from tests.support.agi_client import call, headers
from tests.support.fake_ami import FakeAmiServer

CALLCENTER = str(Path(sys.executable).with_name("callcenter"))
OLD_LIMIT = 5  # refusals after which serve used to stop, routing service and all
SECRET = "wrong-secret-do-not-log"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_keeps_routing_while_the_ami_refuses_the_login(
    sqlite_url: str, tmp_path: Path
) -> None:
    engine = db.make_engine(sqlite_url)
    migrate.upgrade(engine)
    engine.dispose()
    agi_port, web_port = _free_port(), _free_port()
    with FakeAmiServer(secret=None) as ami:
        serve = Service(
            ["serve"],
            {
                "CALLCENTER_DATABASE_URL": sqlite_url,
                "CALLCENTER_AGI_PORT": str(agi_port),
                "CALLCENTER_AMI_PORT": str(ami.port),
                "CALLCENTER_AMI_SECRET": SECRET,
                "CALLCENTER_WEB_PORT": str(web_port),
            },
            tmp_path / "serve.log",
        ).start("fastagi listening")
        try:
            # Two refusals past the old limit: with the backoff (0.5 s doubling, capped at
            # 30 s, less up to half at random) that is at least 15 s after the first.
            process = serve.process
            assert process is not None
            ami.wait_until(
                lambda: ami.attempts() >= OLD_LIMIT + 2 or process.poll() is not None,
                90,
                "seventh login (or serve's exit)",
            )
            assert process.poll() is None, serve.text()[-3000:]  # still up
            exchange = asyncio.run(call(agi_port, headers("anonymous", uniqueid="refused.1")))
            assert exchange.variables["CC_ROUTE"] == "anonymous"
            assert exchange.variables["CC_REASON"] != "fail_open"
            serve.wait_for("Uvicorn running", timeout=30)
            login = httpx.get(f"http://127.0.0.1:{web_port}/login", timeout=5)
            assert login.status_code == 200
        finally:
            status = serve.stop()
    log = serve.text()
    assert status == 0, log[-2000:]
    refused = [line for line in log.splitlines() if "ami login refused" in line]
    assert len(refused) >= OLD_LIMIT + 2
    assert all(" ERROR " in line and "retrying" in line for line in refused)
    assert "Authentication failed" in refused[0]
    assert SECRET in ami.secrets_seen and SECRET not in log  # sent, never logged
    assert "Traceback" not in log


def test_listen_alone_stops_with_one_clear_line_after_bounded_refusals(
    sqlite_url: str, tmp_path: Path
) -> None:
    """With no callers to serve in the process, the listener alone gives up, clearly."""
    engine = db.make_engine(sqlite_url)
    migrate.upgrade(engine)
    engine.dispose()
    with FakeAmiServer(secret=None) as ami:
        done = subprocess.run(
            [CALLCENTER, "listen"],
            env={**os.environ, "CALLCENTER_DATABASE_URL": sqlite_url,
                 "CALLCENTER_AMI_PORT": str(ami.port), "CALLCENTER_AMI_SECRET": SECRET},
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert done.returncode == 1
    assert ami.attempts() == OLD_LIMIT
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("callcenter: error: AMI login refused for user 'callcenter'")
    assert "Traceback" not in done.stderr and SECRET not in done.stderr
