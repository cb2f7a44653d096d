"""`/api/audit`: the audit log, newest first, by keyset pages (managers; read only: no
route changes it). The twin of `/audit`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from callcenter.render import audit_json
from callcenter.store import audit
from callcenter.web.deps import SessionDep, manager

router = APIRouter(prefix="/api", tags=["audit"], dependencies=[Depends(manager)])

Text = Annotated[str | None, Query(max_length=200)]


@router.get("/audit")
def audit_log(
    session: SessionDep,
    actor: Text = None,
    action: Text = None,
    subject: Text = None,
    before: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=audit.PAGE_MAX)] = 50,
) -> dict[str, Any]:
    """Entries older than `before` (an entry's id; the `next` of the previous page)."""
    f = audit.AuditFilter(actor=actor or None, action=action or None, subject=subject or None)
    entries, following = audit.page(session, f, before, limit)
    return {"entries": [audit_json(e) for e in entries], "next": following}
