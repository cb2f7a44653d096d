"""`/api/contracts`: finding contracts, a contract's page as data, the CSV import
(managers). The twins of `/contracts` and `/contracts/{number}`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.responses import JSONResponse

from callcenter import admin
from callcenter.domain.contract_csv import CsvError
from callcenter.render import call_json, contract_json, contract_summary, usage_json
from callcenter.web.deps import CurrentManager, SessionDep, SettingsDep, manager, now

router = APIRouter(prefix="/api", tags=["contracts"], dependencies=[Depends(manager)])

Text = Annotated[str | None, Query(max_length=200)]


@router.get("/contracts")
def list_contracts(
    session: SessionDep,
    settings: SettingsDep,
    number: Text = None,
    phone: Text = None,
    customer: Text = None,
    after: Text = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """Contracts by number matching every part given (`phone` in any common form); the
    next page starts `after` the `next` this answer gives (null: the last page)."""
    found, following = admin.search_contracts(
        session, number, phone, customer, after, settings.region, limit
    )
    return {"contracts": [contract_summary(c) for c in found], "next": following}


def import_answer(upload: UploadFile) -> bytes | JSONResponse:
    """The uploaded file's bytes, or the 413 answer of one over the limit."""
    data = upload.file.read(admin.MAX_UPLOAD_BYTES + 1)
    if len(data) > admin.MAX_UPLOAD_BYTES:
        msg = f"the file is larger than {admin.MAX_UPLOAD_BYTES} bytes"
        return JSONResponse({"detail": [{"field": "file", "msg": msg}]}, 413)
    return data


@router.post("/contracts/import")
def import_contracts(
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentManager,
    file: Annotated[UploadFile, File(description="The contract CSV (UTF-8).")],
) -> Any:
    """All rows or none, as `callcenter contracts import`: 422 names every bad line."""
    data = import_answer(file)
    if isinstance(data, JSONResponse):
        return data
    try:
        result = admin.import_contracts(session, data, settings.region, now(), user.username)
    except CsvError as exc:
        lines = [{"line": e.line, "msg": e.message} for e in exc.errors]
        msg = f"nothing imported ({len(exc.errors)} bad line(s))"
        return JSONResponse({"detail": [{"field": "file", "msg": msg, "lines": lines}]}, 422)
    return {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}


@router.get("/contracts/{number:path}")
def show_contract(number: str, session: SessionDep) -> dict[str, Any]:
    """A contract as `contracts show --json` gives it, with `usage` (its allowance day by
    day, newest first) and its last `calls`."""
    view = admin.contract_page(session, number, now())
    return {
        **contract_json(view.report),
        "usage": usage_json(view.usage),
        "calls": [call_json(c) for c in view.calls],
    }
