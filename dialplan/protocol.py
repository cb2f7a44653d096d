"""FastAGI wire format, pure: the request header block, command lines, result lines.

A FastAGI request opens with `agi_name: value` lines ended by an empty line. Asterisk then
waits for commands (`SET VARIABLE NAME "value"`, `EXEC MSet "A=1,B=2"`), answering each with
`200 result=...`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

MAX_HEADER_BYTES = 16 * 1024


class ProtocolError(ValueError):
    """The peer did not speak FastAGI; the connection is logged and closed."""


@dataclass(frozen=True)
class AgiRequest:
    headers: dict[str, str]

    def _script_url(self) -> str:
        """`agi_network_script` (`route?x=1`), else the path of `agi_request`
        (`agi://127.0.0.1:4573/route?x=1`), which every FastAGI request carries."""
        if "agi_network_script" in self.headers:
            return self.headers["agi_network_script"]
        parts = urlsplit(self.headers.get("agi_request", ""))
        return parts.path + (f"?{parts.query}" if parts.query else "")

    @property
    def script(self) -> str:
        """The route asked for, without a query string (`route?x=1` asks for `route`)."""
        return urlsplit(self._script_url()).path.strip("/")

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self._script_url()).query))

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
    # Lines end at "\n" only: a caller's name may hold what str.splitlines() also breaks at
    # (a carriage return, U+2028, \x1c); in a value it is part of the value.
    for raw in text.split("\n"):
        line = raw.removesuffix("\r")
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.startswith("agi_"):
            raise ProtocolError(f"not an AGI header line: {line[:80]!r}")
        headers[name.strip()] = value.strip()
    if "agi_network_script" not in headers and "agi_request" not in headers:
        raise ProtocolError("no agi_network_script or agi_request header")
    return AgiRequest(headers)


# A value MSet takes as it is: Asterisk's argument splitter gives meaning to commas, quotes,
# backslashes, parentheses and brackets, and `=` separates a name from its value.
_PLAIN_VALUE = re.compile(r"[\w.:+/@ -]*")


def set_variables(values: Mapping[str, str]) -> list[bytes]:
    """The commands that set these channel variables, each answered before the next.

    One `EXEC MSet "A=1,B=2"` when every value is plain: one round trip for the whole
    answer instead of one per variable. A value with a character MSet would read as syntax
    (a comma in a contract number) falls back to one SET VARIABLE per variable."""
    if all(_PLAIN_VALUE.fullmatch(value) for value in values.values()):
        pairs = ",".join(f"{name}={value}" for name, value in values.items())
        return [f'EXEC MSet "{pairs}"\n'.encode()]
    return [set_variable(name, value) for name, value in values.items()]


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
        """Done: `200` with a result that is not negative (`200 result=-1`: the command
        failed; `-2` for EXEC: no such application)."""
        return self.code == 200 and not self.result.startswith("-")


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


# A command used wrongly is answered with its usage over several lines:
#   520-Invalid command syntax.  Proper usage follows:
#   Usage: SET VARIABLE <variablename> <value>
#   520 End of proper usage.
USAGE_START = b"520-"
USAGE_END = b"520 "
MAX_USAGE_LINES = 100


def usage_result(first: bytes, rest: list[bytes]) -> AgiResult:
    """The answer made of a `520-` line, the usage lines and the closing `520 ...` line."""
    lines = [first, *rest]
    text = " | ".join(line.decode("utf-8", errors="replace").strip() for line in lines)
    return AgiResult(code=520, result="", text=text)
