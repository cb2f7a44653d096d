"""The Jinja2 environment (autoescaped) and the page renderer every page uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def contract_url(number: str) -> str:
    """A contract's page: its number as one path segment, every `/`, `?`, `#`, `%` and
    space escaped (a number may hold any of them)."""
    return "/contracts/" + quote(number, safe="")


templates.env.filters["contract_url"] = contract_url


def page(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render a page; the login (if any) gives `user` and `csrf_token` to every template."""
    login = getattr(request.state, "login", None)
    values: dict[str, Any] = {
        "user": login.user if login else None,
        "csrf_token": login.csrf if login else "",
        **(context or {}),
    }
    return templates.TemplateResponse(request, name, values, status_code=status_code)
