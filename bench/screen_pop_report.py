"""The screen-pop bench's figures: one call's instants (`Sample`), and the report of all
of them on one clock (CLOCK_MONOTONIC; the page's readings put on it by `page_offset`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Sample:
    """One call's instants, in seconds on CLOCK_MONOTONIC (page times as read there)."""

    linkedid: str
    called: float  # AgentCalled's Timestamp
    ami_seen: float  # its arrival at the bench's AMI connection
    size: int = 0
    client: float | None = None
    page: tuple[float, float] | None = None  # performance.now() ms: in the DOM, next frame
    sent: float | None = None  # baseline: the server's send
    bare_client: float | None = None
    bare_page: tuple[float, float] | None = None
    trace: dict[str, float] = field(default_factory=dict)  # the server's stamps


def page_offset(readings: list[tuple[float, float]]) -> tuple[float, float]:
    """The page's offset to CLOCK_MONOTONIC and its uncertainty (+/- s): the offset is
    constant, so it lies within every reading's bounds (widened by Chromium's 0.1 ms
    coarsening); the midpoint of their intersection. Should they not meet (a clock step),
    the tightest reading alone."""
    low = max(lo for lo, _ in readings) - 0.0001
    high = min(hi for _, hi in readings)
    if low > high:
        low, high = min(readings, key=lambda r: r[1] - r[0])
    return (low + high) / 2, (high - low) / 2


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)] * 1000


def line(name: str, values: list[float], total: int) -> str:
    if not values:
        return f"    {name:<50} none arrived"
    missing = f"  ({total - len(values)} missing)" if len(values) < total else ""
    return (
        f"    {name:<50} p50 {pct(values, 0.5):7.2f} ms  p99 {pct(values, 0.99):7.2f} ms"
        f"  max {max(values) * 1000:7.2f} ms{missing}"
    )


def report(
    samples: list[Sample], readings: list[tuple[float, float]], total: int, csv: Path
) -> None:
    if not samples or not readings:
        print(f"none of the {total} calls was measured")
        return
    offset, within = page_offset(readings)
    trip = min(hi - lo for lo, hi in readings)

    def page_t(ms: float) -> float:
        return ms / 1000 + offset

    def bare_page(i: int) -> Callable[[Sample], float | None]:
        return lambda s: page_t(s.bare_page[i]) - s.sent if s.bare_page and s.sent else None

    def pop_page(i: int) -> Callable[[Sample], float | None]:
        return lambda s: page_t(s.page[i]) - s.called if s.page else None

    rows: list[tuple[str, str, Callable[[Sample], float | None]]] = [
        ("(a) WebSocket client (/ws/pops, bearer token of op1)",
         "baseline: server's send -> client",
         lambda s: s.bare_client - s.sent if s.bare_client and s.sent else None),
        ("", "pop: AgentCalled -> client", lambda s: s.client - s.called if s.client else None),
        ("(b) Chromium, the operator page of op1", "baseline: server's send -> DOM",
         bare_page(0)),
        ("", "baseline: server's send -> next frame", bare_page(1)),
        ("", "pop: AgentCalled -> DOM", pop_page(0)),
        ("", "pop: AgentCalled -> next frame", pop_page(1)),
        ("where the pop's time goes (server's stamps)", "AgentCalled -> the listener takes it",
         lambda s: s.trace["listener"] - s.called if "listener" in s.trace else None),
        ("", "the listener -> the pop in the hub (contract read)",
         lambda s: s.trace["hub"] - s.trace["listener"] if len(s.trace) == 2 else None),
        ("", "the hub -> the WebSocket client",
         lambda s: s.client - s.trace["hub"] if s.client and "hub" in s.trace else None),
        ("", "the hub -> Chromium's DOM",
         lambda s: page_t(s.page[0]) - s.trace["hub"] if s.page and "hub" in s.trace else None),
        ("clocks", "AgentCalled Timestamp -> bench's AMI reader", lambda s: s.ami_seen - s.called),
    ]  # fmt: skip
    sizes = [s.size for s in samples if s.size]
    print(
        f"{total} calls measured; pop messages {min(sizes, default=0)}-{max(sizes, default=0)} "
        "bytes, each baseline message the size of its call's pop"
    )
    for head, name, get in rows:
        if head:
            print(f"  {head}")
        print(line(name, [v for s in samples if (v := get(s)) is not None], total))
    with csv.open("w", encoding="utf-8") as out:  # every call's figures, in ms
        out.write(",".join(["linkedid", "bytes", *(f'"{name}"' for _, name, _ in rows)]) + "\n")
        for s in samples:
            values = [get(s) for _, _, get in rows]
            cells = ["" if v is None else f"{v * 1000:.2f}" for v in values]
            out.write(",".join([s.linkedid, str(s.size), *cells]) + "\n")
    print(f"  every call's figures: {csv}")
    print(
        f"    Chromium's clock: offset to CLOCK_MONOTONIC within +/-{within * 1000:.2f} ms "
        f"({len(readings)} readings, tightest round trip {trip * 1000:.2f} ms)"
    )  # fmt: skip
