"""A request body over the limit is refused before it is read: the contract CSV upload
(`admin.MAX_UPLOAD_BYTES`, plus room for the multipart framing). FastAPI reads a form
before any dependency runs (even the login), so without this an anonymous client could
make the server spool a file of any size to disk before it answers 401."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from callcenter import admin

UPLOAD_PATHS = frozenset({"/contracts/import", "/api/contracts/import"})
FRAMING = 64 * 1024  # the multipart boundaries and headers around the file, and the fields


class UploadLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") not in UPLOAD_PATHS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if scope.get("method") == "POST" and not (length and length.isdigit()):
            await _refuse(send, 411, "a Content-Length is required")
            return
        if length and int(length) > admin.MAX_UPLOAD_BYTES + FRAMING:
            await _refuse(send, 413, f"the file is larger than {admin.MAX_UPLOAD_BYTES} bytes")
            return
        await self.app(scope, receive, send)


async def _refuse(send: Send, status: int, msg: str) -> None:
    body = json.dumps({"detail": [{"field": "file", "msg": msg}]}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
