"""`/`: the operator's screen. The pops themselves arrive over `/ws/pops` (static/pops.js)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from callcenter.web.deps import CurrentOperator, operator
from callcenter.web.templating import page
from callcenter.web.words import all_words

router = APIRouter(dependencies=[Depends(operator)], include_in_schema=False)


@router.get("/")
def screen(request: Request, user: CurrentOperator) -> HTMLResponse:
    return page(request, "operator.html", {"endpoint": user.endpoint, "words": all_words()})
