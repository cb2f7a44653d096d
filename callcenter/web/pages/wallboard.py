"""`/wallboard`: the live wallboard for a wall screen (managers). static/wallboard.js reads
`GET /api/wallboard`, then follows `/ws/pops`."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from callcenter.web.deps import manager
from callcenter.web.templating import page
from callcenter.web.words import WALLBOARD_STATES

router = APIRouter(dependencies=[Depends(manager)], include_in_schema=False)


@router.get("/wallboard")
def wallboard_page(request: Request) -> HTMLResponse:
    return page(request, "wallboard.html", {"words": {"states": WALLBOARD_STATES}})
