"""`/api/closures`, `/api/consolidations`: the announced closures and the consolidations
(managers): list and add, each addition audited. The twins of the pages of those names."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from callcenter import admin
from callcenter.render import closure_json, consolidation_json
from callcenter.store import repositories as repo
from callcenter.web.deps import CurrentManager, SessionDep, manager, now

router = APIRouter(prefix="/api", tags=["terms"], dependencies=[Depends(manager)])


class NewClosure(BaseModel):
    first: Annotated[str, Field(alias="from", max_length=40)]
    last: Annotated[str, Field(alias="to", max_length=40)]
    note: Annotated[str, Field(max_length=admin.MAX_NOTE)] = ""


class NewConsolidation(BaseModel):
    contract: Annotated[str, Field(min_length=1, max_length=64)]
    day: Annotated[str, Field(max_length=40)]
    days: int
    note: Annotated[str, Field(max_length=admin.MAX_NOTE)] = ""


@router.get("/closures")
def list_closures(session: SessionDep) -> list[dict[str, Any]]:
    return [closure_json(c) for c in repo.closures(session)]


@router.post("/closures", status_code=201)
def add_closure(body: NewClosure, session: SessionDep, user: CurrentManager) -> dict[str, Any]:
    first, last = admin.parse_day("from", body.first), admin.parse_day("to", body.last)
    saved = admin.add_closure(session, first, last, body.note, now(), user.username)
    return closure_json(saved)


@router.get("/consolidations")
def list_consolidations(session: SessionDep) -> list[dict[str, Any]]:
    return [consolidation_json(g) for g in repo.consolidations(session, None)]


@router.post("/consolidations", status_code=201)
def add_consolidation(
    body: NewConsolidation, session: SessionDep, user: CurrentManager
) -> dict[str, Any]:
    day = admin.parse_day("day", body.day)
    saved = admin.grant_consolidation(
        session, body.contract, day, body.days, body.note, now(), user.username
    )
    return consolidation_json(saved)
