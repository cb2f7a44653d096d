"""A stand-in for Asterisk's side of FastAGI, for tests and benchmarks: sends the request
headers, answers every command with `200 result=1`, and records what it was asked."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

_SET = re.compile(r'^SET VARIABLE (\w+) "(.*)"$')
_MSET = re.compile(r'^EXEC MSet "(.*)"$')  # only plain values are sent this way


@dataclass
class AgiExchange:
    variables: dict[str, str] = field(default_factory=dict)
    commands: list[str] = field(default_factory=list)


def headers(
    caller: str,
    *,
    uniqueid: str = "1764500000.1",
    script: str = "route",
    name: str = "",
    extension: str = "800",
    args: tuple[str, ...] | None = None,
    callingpres: int = 0,
) -> bytes:
    values = {
        "agi_network": "yes",
        "agi_network_script": script,
        "agi_request": f"agi://127.0.0.1/{script}",
        "agi_channel": "PJSIP/trunk-00000001",
        "agi_language": "pl",
        "agi_type": "PJSIP",
        "agi_uniqueid": uniqueid,
        "agi_version": "22.0.0",
        "agi_callerid": caller,
        "agi_calleridname": name,
        "agi_callingpres": str(callingpres),
        "agi_context": "from-trunk",
        "agi_extension": extension,
        "agi_priority": "2",
    }
    for i, arg in enumerate((caller, extension) if args is None else args, start=1):
        values[f"agi_arg_{i}"] = arg
    return "".join(f"{k}: {v}\n" for k, v in values.items()).encode() + b"\n"


async def call(port: int, block: bytes, timeout: float = 10.0) -> AgiExchange:
    """One AGI request; returns when the service closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    exchange = AgiExchange()
    try:
        writer.write(block)
        await writer.drain()
        async with asyncio.timeout(timeout):
            while line := await reader.readline():
                command = line.decode().rstrip("\n")
                exchange.commands.append(command)
                if match := _SET.match(command):
                    exchange.variables[match[1]] = match[2]
                elif match := _MSET.match(command):
                    for pair in match[1].split(","):
                        name, _, value = pair.partition("=")
                        exchange.variables[name] = value
                    writer.write(b"200 result=0\n")  # what Asterisk answers to EXEC
                    await writer.drain()
                    continue
                writer.write(b"200 result=1\n")
                await writer.drain()
    finally:
        writer.close()
    return exchange
