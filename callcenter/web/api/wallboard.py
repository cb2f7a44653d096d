"""`GET /api/wallboard`: what the wallboard shows now (managers); the page reads it first,
then follows `/ws/pops` (messages of kind `wallboard`, the same shape, newer `version`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from callcenter.wallboard import snapshot
from callcenter.web.deps import SessionDep, manager, now

router = APIRouter(prefix="/api", tags=["wallboard"], dependencies=[Depends(manager)])


@router.get("/wallboard")
def wallboard(request: Request, session: SessionDep) -> dict[str, Any]:
    return snapshot(session, request.app.state.board, now())
