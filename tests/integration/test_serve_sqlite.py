"""`callcenter serve`: the routing service, the AMI listener and the web app in one process,
on SQLite.

With no Asterisk to log in to, the listener keeps retrying (and says so) while the routing
service and the web app answer; SIGTERM stops them all cleanly."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
from services import Service

from callcenter.store import db, migrate
from tests.support.agi_client import call, headers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_calls_while_the_ami_is_unreachable(sqlite_url: str, tmp_path: Path) -> None:
    engine = db.make_engine(sqlite_url)
    migrate.upgrade(engine)
    engine.dispose()
    agi_port, ami_port, web_port = _free_port(), _free_port(), _free_port()
    serve = Service(
        ["serve"],
        {
            "CALLCENTER_DATABASE_URL": sqlite_url,
            "CALLCENTER_AGI_PORT": str(agi_port),
            "CALLCENTER_AMI_PORT": str(ami_port),  # nothing listens there
            "CALLCENTER_WEB_PORT": str(web_port),
        },
        tmp_path / "serve.log",
    ).start("fastagi listening")
    try:
        serve.wait_for("ami connect failed", timeout=30)
        exchange = asyncio.run(call(agi_port, headers("anonymous", uniqueid="serve.1")))
        assert exchange.variables["CC_ROUTE"] == "anonymous"
        serve.wait_for("Uvicorn running", timeout=30)
        login = httpx.get(f"http://127.0.0.1:{web_port}/login", timeout=5)
        assert login.status_code == 200 and "Logowanie" in login.text
    finally:
        status = serve.stop()
    assert status == 0, serve.text()[-2000:]
    assert "fastagi stopped" in serve.text()
