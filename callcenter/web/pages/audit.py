"""`/audit`: the audit log for people (managers): newest first, by keyset pages, filtered
by who, what and which subject; each entry's before and after as a small table of the
fields that changed. The twin of `/api/audit`. Nothing here changes an entry."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from callcenter.domain.audit import changes
from callcenter.render import _iso
from callcenter.store import audit
from callcenter.web import words
from callcenter.web.deps import SessionDep, manager
from callcenter.web.templating import page

router = APIRouter(dependencies=[Depends(manager)], include_in_schema=False)

Text = Annotated[str, Query(max_length=200)]
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d\d:\d\d|Z)?")


def shown(value: Any, field: str = "") -> str:
    """A value of an entry as a manager reads it: codes in Polish, lists joined, times
    without the `T`, no value a dash."""
    if value is None or value in ("", []):
        return "–"
    if isinstance(value, str) and value in words.AUDIT_VALUES.get(field, {}):
        return words.AUDIT_VALUES[field][value]
    if isinstance(value, str) and _TIME.fullmatch(value):
        return value.replace("T", " ", 1)
    if isinstance(value, bool):
        return "tak" if value else "nie"
    if isinstance(value, list):
        return ", ".join(shown(v, field) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {shown(v)}" for k, v in value.items())
    return str(value)


def _view(entry: audit.Entry) -> dict[str, Any]:
    rows = [
        {
            "field": words.AUDIT_FIELDS.get(c.field, c.field),
            "before": shown(c.before, c.field) if entry.before is not None else "",
            "after": shown(c.after, c.field) if entry.after is not None else "",
        }
        for c in changes(entry.before, entry.after)
    ]
    return {
        "id": entry.id,
        "at": (_iso(entry.at) or "")[:19].replace("T", " "),
        "actor": entry.actor,
        "action": entry.action,
        "action_pl": words.AUDIT_ACTIONS.get(entry.action, entry.action),
        "subject": entry.subject,
        "detail": "" if rows else entry.detail,  # the values say it better
        "has_before": entry.before is not None,
        "has_after": entry.after is not None,
        "changes": rows,
    }


@router.get("/audit")
def audit_page(
    request: Request,
    session: SessionDep,
    actor: Text = "",
    action: Text = "",
    subject: Text = "",
    before: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    f = audit.AuditFilter(actor=actor or None, action=action or None, subject=subject or None)
    entries, following = audit.page(session, f, before, 50)
    context = {
        "entries": [_view(e) for e in entries],
        "next": following,
        "q": {"actor": actor, "action": action, "subject": subject},
        "actions": words.AUDIT_ACTIONS,
    }
    return page(request, "audit.html", context)
