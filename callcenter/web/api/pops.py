"""`/api/pops/live`: the pops a screen opened now shows first (the socket's replay)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from callcenter.pbx.popinfo import live_pops
from callcenter.web.deps import CurrentOperator, SessionDep, operator

router = APIRouter(prefix="/api", tags=["pops"], dependencies=[Depends(operator)])


@router.get("/pops/live")
def live(session: SessionDep, user: CurrentOperator) -> list[dict[str, Any]]:
    return live_pops(session, user.endpoint) if user.endpoint else []
