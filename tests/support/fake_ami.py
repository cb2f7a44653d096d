"""A small AMI server on loopback for tests that run `callcenter` as a process: it greets,
answers Login (accepting `secret`, or refusing every login when `secret` is None, as
Asterisk does for a wrong secret or a locked account: an error, then the connection closed),
and counts the attempts. It runs in a thread of its own, so a blocking test can use it."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Callable


def _frame(*pairs: tuple[str, str]) -> bytes:
    return "".join(f"{k}: {v}\r\n" for k, v in pairs).encode() + b"\r\n"


class FakeAmiServer:
    def __init__(self, secret: str | None = None) -> None:
        self.secret = secret
        self.login_attempts = 0
        self.secrets_seen: list[str] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                fake._serve(self.connection, self.rfile)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def __enter__(self) -> FakeAmiServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def attempts(self) -> int:
        with self._lock:
            return self.login_attempts

    def wait_until(self, fact: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not fact():
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {what} within {timeout} s")
            time.sleep(0.05)

    def _serve(self, connection: socket.socket, rfile: object) -> None:
        connection.sendall(b"Asterisk Call Manager/11.0.0\r\n")
        fields: dict[str, str] = {}
        while line := rfile.readline():  # type: ignore[attr-defined]
            text = line.decode("utf-8", errors="replace").rstrip("\r\n")
            if text:
                key, _, value = text.partition(": ")
                fields[key.lower()] = value
                continue
            if fields.get("action", "").lower() == "login":
                with self._lock:
                    self.login_attempts += 1
                    self.secrets_seen.append(fields.get("secret", ""))
                action_id = fields.get("actionid", "")
                if self.secret is not None and fields.get("secret") == self.secret:
                    connection.sendall(_frame(("Response", "Success"),
                                              ("ActionID", action_id),
                                              ("Message", "Authentication accepted")))  # fmt: skip
                else:
                    connection.sendall(_frame(("Response", "Error"), ("ActionID", action_id),
                                              ("Message", "Authentication failed")))  # fmt: skip
                    return  # Asterisk closes the connection after a refused login
            fields = {}
