"""`callcenter serve`: the routing service and the AMI listener in one process, on SQLite.

With no Asterisk to log in to, the listener keeps retrying (and says so) while the routing
service answers; SIGTERM stops both cleanly."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

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
    agi_port, ami_port = _free_port(), _free_port()  # nothing listens on ami_port
    serve = Service(
        ["serve"],
        {
            "CALLCENTER_DATABASE_URL": sqlite_url,
            "CALLCENTER_AGI_PORT": str(agi_port),
            "CALLCENTER_AMI_PORT": str(ami_port),
        },
        tmp_path / "serve.log",
    ).start("fastagi listening")
    try:
        serve.wait_for("ami connect failed", timeout=30)
        exchange = asyncio.run(call(agi_port, headers("anonymous", uniqueid="serve.1")))
        assert exchange.variables["CC_ROUTE"] == "anonymous"
    finally:
        status = serve.stop()
    assert status == 0, serve.text()[-2000:]
    assert "fastagi stopped" in serve.text()
