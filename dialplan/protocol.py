"""FastAGI wire format, pure: the request header block, command lines, result lines.

A FastAGI request opens with `agi_name: value` lines ended by an empty line. Asterisk then
waits for commands (`SET VARIABLE NAME "value"`), answering each with `200 result=...`.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

MAX_HEADER_BYTES = 16 * 1024


class ProtocolError(ValueError):
    """The peer did not speak FastAGI; the connection is logged and closed."""


@dataclass(frozen=True)
class AgiRequest:
    headers: dict[str, str]

    @property
    def script(self) -> str:
        """The route asked for, without a query string (`route?x=1` asks for `route`)."""
        return urlsplit(self.headers.get("agi_network_script", "")).path.strip("/")

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.headers.get("agi_network_script", "")).query))

    @property
    def args(self) -> list[str]:
        """`agi_arg_1`, `agi_arg_2`, ... in order."""
        found: list[str] = []
        while f"agi_arg_{len(found) + 1}" in self.headers:
            found.append(self.headers[f"agi_arg_{len(found) + 1}"])
        return found

    def get(self, name: str, default: str = "") -> str:
        return self.headers.get(name, default)


def parse_headers(block: bytes) -> AgiRequest:
    """Parse the header block (up to and including the blank line)."""
    if len(block) > MAX_HEADER_BYTES:
        raise ProtocolError(f"header block of {len(block)} bytes exceeds {MAX_HEADER_BYTES}")
    text = block.decode("utf-8", errors="replace")
    headers: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.startswith("agi_"):
            raise ProtocolError(f"not an AGI header line: {line[:80]!r}")
        headers[name.strip()] = value.strip()
    if "agi_network_script" not in headers and "agi_request" not in headers:
        raise ProtocolError("no agi_network_script or agi_request header")
    return AgiRequest(headers)


def set_variable(name: str, value: str) -> bytes:
    """A SET VARIABLE command; the value is quoted and stripped of what would break the line."""
    clean = value.replace("\\", "").replace('"', "").replace("\n", " ").replace("\r", " ")
    return f'SET VARIABLE {name} "{clean}"\n'.encode()


@dataclass(frozen=True)
class AgiResult:
    code: int
    result: str
    text: str

    @property
    def ok(self) -> bool:
        return self.code == 200


def parse_result(line: bytes) -> AgiResult:
    """Parse `200 result=1`, `510 Invalid or unknown command`, ...; raises on junk."""
    text = line.decode("utf-8", errors="replace").strip()
    code, _, rest = text.partition(" ")
    if not code.isdigit():
        raise ProtocolError(f"not an AGI result line: {text[:80]!r}")
    result = ""
    if rest.startswith("result="):
        result = rest.removeprefix("result=").split(" ", 1)[0]
    return AgiResult(code=int(code), result=result, text=text)
