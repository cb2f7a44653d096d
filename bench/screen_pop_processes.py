"""The two Python processes bench/screen_pop.py starts besides Asterisk and sipp.

- `serve`: `callcenter serve` (callcenter.runner.run_parts: the routing service, the AMI
  listener and the web app on one event loop), its web app with the bench's routes added
  (the product has no switch for them): `/bench/ws`, a bare WebSocket; `POST
  /bench/send?size=N&seq=S`, which sends one message of N bytes to every `/bench/ws` socket
  and answers the server's clock at the send; `GET /bench/trace/LINKEDID`, two stamps on
  that call's pop's way through the server;
- `client WS_BASE TOKEN`: a WebSocket client on `/ws/pops` (op1's bearer token) and on
  `/bench/ws`, printing a JSON line (stamped on CLOCK_MONOTONIC) for every message it
  receives, until its stdin closes.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi import APIRouter, WebSocket

from callcenter.config import Settings


def baseline_router() -> APIRouter:
    router = APIRouter()
    sockets: set[WebSocket] = set()

    @router.websocket("/bench/ws")
    async def bare(ws: WebSocket) -> None:
        await ws.accept()
        sockets.add(ws)
        try:
            while (await ws.receive())["type"] != "websocket.disconnect":
                pass
        finally:
            sockets.discard(ws)

    @router.post("/bench/send")
    async def send(size: int, seq: int) -> dict[str, Any]:
        sent = time.monotonic()
        text = bare_message(seq, size)
        for ws in list(sockets):
            await ws.send_text(text)
        return {"sent": sent, "sockets": len(sockets)}

    @router.get("/bench/trace/{linkedid}")
    async def trace(linkedid: str) -> dict[str, float]:
        return TRACE.get(linkedid, {})

    return router


# Linkedid -> when (CLOCK_MONOTONIC) the listener took op1's AgentCalled ("listener") and
# when op1's ringing pop reached the hub ("hub"), in the server process.
TRACE: dict[str, dict[str, float]] = {}


def trace_the_pop_path() -> None:
    """Two stamps on the pop's way through the server (a dict write each): where the time
    goes between Asterisk and the socket."""
    from callcenter.pbx.frames import Frame
    from callcenter.pbx.listener import Listener
    from callcenter.pbx.pops import PopHub

    handle, deliver = Listener.handle, PopHub.deliver

    async def traced_handle(self: Listener, frame: Frame) -> None:
        if frame.event == "AgentCalled" and frame.get("Interface") == "PJSIP/op1":
            TRACE.setdefault(frame.get("Linkedid") or "", {})["listener"] = time.monotonic()
        await handle(self, frame)

    def traced_deliver(self: PopHub, pop: dict[str, Any]) -> None:
        if pop.get("kind") == "ringing" and pop.get("endpoint") == "op1":
            TRACE.setdefault(str(pop.get("linkedid")), {}).setdefault("hub", time.monotonic())
        deliver(self, pop)

    Listener.handle = traced_handle  # type: ignore[method-assign]
    PopHub.deliver = traced_deliver  # type: ignore[method-assign]


def bare_message(seq: int, size: int) -> str:
    """A JSON message of `size` bytes (UTF-8) naming `seq`."""
    head = json.dumps({"seq": seq, "pad": ""}, separators=(",", ":"))
    return head.replace('"pad":""', '"pad":"' + "x" * max(size - len(head), 0) + '"')


def serve() -> None:
    """`callcenter serve`, its web app with the baseline routes added."""
    from callcenter.runner import configure_logging, run_parts
    from callcenter.web import server

    build = server.create_app

    def create_app(*args: Any, **kwargs: Any) -> Any:
        app = build(*args, **kwargs)
        app.include_router(baseline_router())
        return app

    server.create_app = create_app  # type: ignore[assignment]
    trace_the_pop_path()
    configure_logging()
    asyncio.run(run_parts(Settings.from_env(), agi=True, listen=True, web=True))


async def client(base: str, token: str) -> None:
    from websockets.asyncio.client import connect

    async def follow(name: str, path: str, headers: dict[str, str]) -> None:
        async with connect(base + path, additional_headers=headers, max_size=None) as ws:
            print(json.dumps({"socket": name, "open": True}), flush=True)
            async for message in ws:
                at = time.monotonic()
                data = json.loads(message)
                size = len(message.encode() if isinstance(message, str) else message)
                keep = {k: data.get(k) for k in ("kind", "endpoint", "linkedid", "seq")}
                print(json.dumps({"socket": name, "t": at, "size": size, **keep}), flush=True)

    done = asyncio.create_task(asyncio.to_thread(sys.stdin.read))  # until the bench goes
    tasks = [
        asyncio.create_task(follow("pops", "/ws/pops", {"Authorization": f"Bearer {token}"})),
        asyncio.create_task(follow("bare", "/bench/ws", {})),
    ]
    await asyncio.wait([done, *tasks], return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        task.cancel()
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        serve()
    elif sys.argv[1:2] == ["client"] and len(sys.argv) == 4:
        asyncio.run(client(sys.argv[2], sys.argv[3]))
    else:
        raise SystemExit(f"usage: {sys.argv[0]} serve | client WS_BASE TOKEN")


if __name__ == "__main__":
    main()
