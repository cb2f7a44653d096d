"""`/contracts`: finding contracts and importing the contract CSV; `/contracts/{number}`:
one contract's page (managers). Twins of `/api/contracts...`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from callcenter import admin
from callcenter.domain.contract_csv import CsvError
from callcenter.domain.contracts import Contract
from callcenter.render import call_json, contract_json, contract_summary, usage_json
from callcenter.store.repositories import NotFoundError
from callcenter.web import words
from callcenter.web.deps import CurrentManager, SessionDep, SettingsDep, manager, now
from callcenter.web.templating import page

router = APIRouter(dependencies=[Depends(manager)], include_in_schema=False)

Text = Annotated[str, Query(max_length=200)]


def _list(
    request: Request,
    session: SessionDep,
    region: str,
    q: dict[str, str],
    extra: dict[str, Any],
    status_code: int = 200,
) -> HTMLResponse:
    error, following = "", None
    found: list[Contract] = []
    try:
        found, following = admin.search_contracts(
            session, q["number"], q["phone"], q["customer"], q["after"] or None, region
        )
    except admin.AdminInputError as exc:
        error, status_code = words.ADMIN_ERRORS[exc.code], 422
    context = {
        "q": q,
        "error": error,
        "contracts": [contract_summary(c) for c in found],
        "next": following,
        "plans": words.PLANS,
        "max_bytes": admin.MAX_UPLOAD_BYTES,
        **extra,
    }
    return page(request, "contracts.html", context, status_code)


@router.get("/contracts")
def contracts_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    number: Text = "",
    phone: Text = "",
    customer: Text = "",
    after: Text = "",
    created: Annotated[int | None, Query(ge=0)] = None,
    updated: Annotated[int | None, Query(ge=0)] = None,
    unchanged: Annotated[int | None, Query(ge=0)] = None,
) -> HTMLResponse:
    q = {"number": number, "phone": phone, "customer": customer, "after": after}
    imported = None
    if created is not None and updated is not None and unchanged is not None:
        imported = {"created": created, "updated": updated, "unchanged": unchanged}
    return _list(request, session, settings.region, q, {"imported": imported})


@router.post("/contracts/import")
def import_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentManager,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """The CSV import from the page: all rows or none; the bad lines are listed."""
    q = {"number": "", "phone": "", "customer": "", "after": ""}
    if file is None or not file.filename:
        return _list(request, session, settings.region, q,
                     {"import_error": words.ADMIN_ERRORS["file"]}, 422)  # fmt: skip
    data = file.file.read(admin.MAX_UPLOAD_BYTES + 1)
    if len(data) > admin.MAX_UPLOAD_BYTES:
        return _list(request, session, settings.region, q,
                     {"import_error": words.ADMIN_ERRORS["file_size"]}, 413)  # fmt: skip
    try:
        result = admin.import_contracts(session, data, settings.region, now(), user.username)
    except CsvError as exc:
        extra = {"bad_lines": exc.errors[:100], "bad_count": len(exc.errors),
                 "file_name": file.filename}  # fmt: skip
        return _list(request, session, settings.region, q, extra, 422)
    target = (
        f"/contracts?created={result.created}&updated={result.updated}&unchanged={result.unchanged}"
    )
    return RedirectResponse(target, status_code=303)


@router.get("/contracts/{number:path}")
def contract_page(request: Request, number: str, session: SessionDep) -> HTMLResponse:
    try:
        view = admin.contract_page(session, number, now())
    except NotFoundError:
        return page(request, "message.html", {"title": "Nie ma takiej umowy", "text":
                    words.ADMIN_ERRORS["no_contract"], "back": "/contracts"}, 404)  # fmt: skip
    context = {
        "c": contract_json(view.report),
        "usage": usage_json(view.usage),
        "calls": [call_json(c) for c in view.calls],
        "plans": words.PLANS,
        "causes": words.EXTENSION_CAUSES,
        "reasons": words.REASONS,
        "routes": words.ROUTES,
    }
    return page(request, "contract.html", context)
