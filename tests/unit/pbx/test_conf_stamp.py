"""The stamp of the asterisk-conf/ a recording was made with (pbx/recording.conf_stamp)."""

from __future__ import annotations

from pathlib import Path

from callcenter.pbx.recording import conf_stamp


def conf(folder: Path, **files: str) -> Path:
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name.replace("_", ".")).write_text(text, encoding="utf-8")
    return folder


def test_a_change_to_the_dialplan_queue_or_prompts_changes_the_stamp(tmp_path: Path) -> None:
    folder = conf(tmp_path / "c", extensions_conf="[a]\n", queues_conf="[q]\n", prompts_txt="x\n")
    before = conf_stamp(folder)
    for name in ("extensions.conf", "queues.conf", "prompts.txt"):
        original = (folder / name).read_text()
        (folder / name).write_text(original + ";\n")
        assert conf_stamp(folder) != before, name
        (folder / name).write_text(original)
    assert conf_stamp(folder) == before


def test_the_readme_the_runner_and_line_endings_do_not_count(tmp_path: Path) -> None:
    folder = conf(tmp_path / "c", extensions_conf="[a]\nexten => s,1,NoOp()\n")
    before = conf_stamp(folder)
    (folder / "README.md").write_text("notes")
    (folder / "local-asterisk").write_text("#!/bin/sh\n")
    (folder / "extensions.conf").write_bytes(b"[a]\r\nexten => s,1,NoOp()\r\n")
    assert conf_stamp(folder) == before


def test_a_renamed_or_added_file_changes_the_stamp(tmp_path: Path) -> None:
    folder = conf(tmp_path / "c", extensions_conf="[a]\n")
    before = conf_stamp(folder)
    (folder / "features.conf").write_text("")
    assert conf_stamp(folder) != before
    (folder / "features.conf").unlink()
    (folder / "extensions.conf").rename(folder / "extensions2.conf")
    assert conf_stamp(folder) != before
