"""The web pages never render outside text as HTML: every template is autoescaped and none
opts out (callcenter/web/templating.py, callcenter/web/templates/)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from callcenter.web.templating import templates

TEMPLATES = Path(templates.env.loader.searchpath[0])  # type: ignore[union-attr]
NAMES = sorted(p.name for p in TEMPLATES.glob("*.html"))
HOSTILE = "<script>alert(1)</script>\"'&[bold]{{7*7}}"


def test_there_are_templates_to_check() -> None:
    assert "base.html" in NAMES and "users.html" in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_each_template_is_autoescaped_and_never_opts_out(name: str) -> None:
    env = templates.env
    assert env.autoescape is True or env.autoescape(name)  # type: ignore[operator]
    source = (TEMPLATES / name).read_text(encoding="utf-8")
    for opt_out in ("|safe", "| safe", "autoescape false", "Markup("):
        assert opt_out not in source, f"{name} renders something unescaped ({opt_out})"


def test_a_hostile_name_is_rendered_as_text() -> None:
    user = SimpleNamespace(username=HOSTILE, endpoint=HOSTILE, role="manager")
    row = {"username": HOSTILE, "role": "operator", "endpoint": HOSTILE,
           "created_at": "2026-11-24T10:00:00+01:00", "disabled_at": None}  # fmt: skip
    html = templates.env.get_template("users.html").render(
        user=user,
        csrf_token=HOSTILE,
        users=[row],
        request=None,
        form={"username": HOSTILE, "role": "operator", "endpoint": HOSTILE},
        error={"field": "username", "text": HOSTILE},
    )
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;&amp;[bold]{{7*7}}" in html
