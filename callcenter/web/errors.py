"""The desk's errors as JSON answers: one line that says what is wrong, never a value that
was sent (it may be a password), never a traceback.

    422 a field of the ticket form, a list's query parameter, a filter of the call log
        {"detail": [{"field": "kind", "msg": "..."}]}
    404 no such ticket, call, callback
    409 the call's ticket is saved already; a ticket answered already; the access data
        cannot be decrypted (the key file is not the one it was sealed with) or was
        altered; a callback done or under way
    502 Asterisk refused the call-back's Originate
    503 no AMI connection in this process (`callcenter web` alone)
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from callcenter.admin import AdminInputError
from callcenter.call_filters import FilterError
from callcenter.desk import TicketInputError
from callcenter.pbx.ami import AmiError
from callcenter.secrets import SecretError
from callcenter.store.callbacks import CallbackError
from callcenter.store.repositories import NotFoundError
from callcenter.store.tickets import TicketConflictError
from callcenter.web.dialer import DialerUnavailableError
from callcenter.web.review_params import ParamError

log = logging.getLogger(__name__)


def _detail(exc: BaseException) -> str:
    return str(exc.args[0]) if exc.args else str(exc)


def api_errors(app: FastAPI) -> None:
    @app.exception_handler(TicketInputError)
    async def bad_field(_: Request, exc: TicketInputError) -> Response:
        return JSONResponse({"detail": [{"field": exc.field, "msg": exc.message}]}, 422)

    @app.exception_handler(AdminInputError)
    async def bad_admin_field(_: Request, exc: AdminInputError) -> Response:
        return JSONResponse({"detail": [{"field": exc.field, "msg": exc.message}]}, 422)

    @app.exception_handler(ParamError)
    async def bad_param(_: Request, exc: ParamError) -> Response:
        return JSONResponse({"detail": [{"field": exc.field, "msg": exc.message}]}, 422)

    @app.exception_handler(FilterError)
    async def bad_filter(_: Request, exc: FilterError) -> Response:
        return JSONResponse({"detail": [{"field": exc.field, "msg": exc.message}]}, 422)

    @app.exception_handler(NotFoundError)
    async def not_found(_: Request, exc: NotFoundError) -> Response:
        return JSONResponse({"detail": _detail(exc)}, 404)

    @app.exception_handler(TicketConflictError)
    async def conflict(_: Request, exc: TicketConflictError) -> Response:
        return JSONResponse({"detail": _detail(exc)}, 409)

    @app.exception_handler(CallbackError)
    async def callback_refused(_: Request, exc: CallbackError) -> Response:
        return JSONResponse({"detail": _detail(exc)}, 409)

    @app.exception_handler(SecretError)
    async def secret(request: Request, exc: SecretError) -> Response:
        # The message names the ticket and the key file, never a secret.
        log.warning("access data refused path=%s: %s", request.url.path, exc)
        return JSONResponse({"detail": _detail(exc), "field": "access"}, 409)

    @app.exception_handler(AmiError)
    async def ami(_: Request, exc: AmiError) -> Response:
        return JSONResponse({"detail": f"Asterisk did not place the call: {exc}"}, 502)

    @app.exception_handler(DialerUnavailableError)
    async def no_dialer(_: Request, exc: DialerUnavailableError) -> Response:
        return JSONResponse({"detail": _detail(exc)}, 503)
