"""The service's log lines: formatted when logged (their arguments as they were then),
written by a thread, every line there and in order once the handler closes."""

from __future__ import annotations

import logging
from pathlib import Path

from callcenter.runner import _Batched, configure_logging


def test_lines_are_written_by_the_thread_in_order_with_their_tracebacks(tmp_path: Path) -> None:
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    configure_logging("INFO", tmp_path / "service.log")
    (handler,) = [h for h in root.handlers if h not in before]
    assert isinstance(handler, _Batched)
    try:
        log = logging.getLogger("callcenter.test")
        seen = {"route": "queue"}
        for i in range(500):
            log.info("decision %d %s", i, seen)
        seen["route"] = "changed later"
        try:
            raise ZeroDivisionError("boom")
        except ZeroDivisionError:
            log.exception("failed after %d", 500)
        log.debug("not at INFO")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()
    lines = (tmp_path / "service.log").read_text().splitlines()
    decisions = [line for line in lines if " decision " in line]
    assert [d.split(" decision ")[1] for d in decisions] == [
        f"{i} {{'route': 'queue'}}" for i in range(500)
    ]
    assert any(line.endswith("ERROR callcenter.test failed after 500") for line in lines)
    assert "ZeroDivisionError: boom" in lines
    assert not any("not at INFO" in line for line in lines)
