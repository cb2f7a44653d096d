"""`/ws/pops`: the screen pops of the operator's own endpoint (a manager: every endpoint),
live. On connect it first sends the pops of the calls still ringing or in talk there (from
the call log) and, to an operator, of the calls ended with their ticket unsaved
(web/replay.py), to a manager the live wallboard's picture (pbx/wallboard.py), then whatever
the pop hub delivers (a manager's: every pop and the wallboard's messages).

Authentication: `Authorization: Bearer` or the session cookie; with the cookie, the Origin
header must be this app's own (a page elsewhere cannot ride the operator's cookie). Refused:
close 4401 (no or dead login), 4403 (an operator without an endpoint), 1008 (foreign Origin).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from callcenter import accounts
from callcenter.domain.accounts import Role
from callcenter.pbx.pops import ALL, PopHub
from callcenter.pbx.wallboard import WALLBOARD, LiveBoard
from callcenter.store import db
from callcenter.store.users import WebSession
from callcenter.web.deps import SESSION_COOKIE, bearer_token, now
from callcenter.web.replay import screen_pops

log = logging.getLogger(__name__)

router = APIRouter()

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_POLICY = 1008


def same_origin(socket: WebSocket) -> bool:
    origin = socket.headers.get("origin")
    host = socket.headers.get("host")
    if not origin or not host:
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc == host


def _login(socket: WebSocket) -> tuple[str | None, str]:
    token = bearer_token(socket.headers.get("authorization"))
    if token is not None:
        return token, accounts.BEARER
    return socket.cookies.get(SESSION_COOKIE), accounts.COOKIE


def _authenticate(socket: WebSocket, token: str, kind: str) -> WebSession | None:
    with db.transaction(socket.app.state.sessions) as session:
        return accounts.authenticate(session, token, kind, now(), socket.app.state.settings)


def _replay(socket: WebSocket, endpoint: str | None) -> list[dict[str, Any]]:
    with socket.app.state.sessions() as session:
        return screen_pops(session, endpoint, now())


@router.websocket("/ws/pops")
async def pops(socket: WebSocket) -> None:
    # Accepted first, so that a refusal reaches the client as a close code (a refusal before
    # the handshake is a bare HTTP 403 to a browser).
    await socket.accept()
    token, kind = _login(socket)
    if kind == accounts.COOKIE and token and not same_origin(socket):
        await socket.close(CLOSE_POLICY, "foreign origin")
        return
    login = await run_in_threadpool(_authenticate, socket, token, kind) if token else None
    if login is None:
        await socket.close(CLOSE_UNAUTHENTICATED, "log in first")
        return
    user = login.user
    if user.role is Role.OPERATOR and not user.endpoint:
        await socket.close(CLOSE_FORBIDDEN, "no endpoint for this operator")
        return
    endpoint = user.endpoint if user.role is Role.OPERATOR else None
    hub: PopHub = socket.app.state.hub
    log.info("screen open user=%s endpoint=%s", user.username, endpoint or ALL)
    board: LiveBoard | None = socket.app.state.board if endpoint is None else None
    # Subscribed before the replay is read: a pop published meanwhile is not lost (it may
    # come twice; the screen keys pops by call). A manager's also gets the wallboard's.
    async with hub.subscribe(endpoint or ALL, *([WALLBOARD] if board else [])) as queue:
        try:
            for pop in await run_in_threadpool(_replay, socket, endpoint):
                await socket.send_json({**pop, "replay": True})
            if board is not None:  # the wallboard as it is (its counters read if stale)
                await socket.send_json(board.message(now()))
                board.screen_opened()
            if await _forward(socket, queue, token or "", kind):
                await socket.close(CLOSE_UNAUTHENTICATED, "login ended")
        except WebSocketDisconnect:
            pass
        finally:
            log.info("screen closed user=%s", user.username)


async def _forward(
    socket: WebSocket, queue: asyncio.Queue[dict[str, Any]], token: str, kind: str
) -> bool:
    """Send the hub's pops until the client goes (False) or the login ends (True: logout,
    disabled account, expiry). The client's messages are only read to notice it going."""
    recheck = socket.app.state.settings.web_ws_recheck_s
    loop = asyncio.get_running_loop()
    next_check = loop.time() + recheck

    async def drain() -> None:
        while True:
            message = await socket.receive()
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message.get("code", 1000))

    reader = asyncio.create_task(drain())
    getter: asyncio.Task[dict[str, Any]] | None = None
    try:
        while True:
            if getter is None:
                getter = asyncio.create_task(queue.get())
            timeout = max(next_check - loop.time(), 0)
            done, _ = await asyncio.wait(
                {getter, reader}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if reader in done:
                getter.cancel()
                reader.result()
                return False
            if getter in done:
                await socket.send_json(getter.result())
                getter = None
            if loop.time() >= next_check:
                if await run_in_threadpool(_authenticate, socket, token, kind) is None:
                    if getter is not None:
                        getter.cancel()
                    return True
                next_check = loop.time() + recheck
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await reader
