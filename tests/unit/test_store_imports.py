"""The store saves and loads (issue 10, item 4): nothing in callcenter/store/ imports the
services, the listener (pbx) or the desk, where what decides is gathered and carried out."""

from __future__ import annotations

import ast
from pathlib import Path

STORE = Path(__file__).resolve().parents[2] / "callcenter" / "store"
FORBIDDEN = ("callcenter.services", "callcenter.pbx", "callcenter.desk", "dialplan")


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_the_store_imports_no_service_listener_or_desk() -> None:
    files = sorted(STORE.rglob("*.py"))
    assert len(files) > 5
    wrong = {
        f"{path.relative_to(STORE)}: {name}"
        for path in files
        for name in imported(path)
        if any(name == bad or name.startswith(f"{bad}.") for bad in FORBIDDEN)
    }
    assert wrong == set()


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from callcenter import services\nimport callcenter.pbx.listener\n")
    assert {"callcenter.services", "callcenter.pbx.listener"} <= imported(sample)
