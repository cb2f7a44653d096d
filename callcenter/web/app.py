"""The FastAPI app: `create_app(settings, hub)`. Served by `callcenter serve` beside the
routing service and the listener (one event loop, the same pop hub), or by `callcenter web`.

Database work runs in FastAPI's thread pool (every handler touching the store is a plain
`def`), never on the event loop.

Adding a page or an API resource: a module in `pages/` or `api/` with
`router = APIRouter(dependencies=[Depends(operator)])` (or `manager`, `any_user`, `public`),
plain-`def` handlers taking `SessionDep` and `CurrentOperator`/`CurrentManager` as needed, and
its router in ROUTERS below. The route-table test then checks it for every role.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callcenter.config import Settings
from callcenter.pbx.pops import PopHub
from callcenter.pbx.wallboard import LiveBoard
from callcenter.store import db
from callcenter.web import ws
from callcenter.web.api import audit as audit_api
from callcenter.web.api import callbacks, calls, review, tickets, token, users
from callcenter.web.api import contracts as contracts_api
from callcenter.web.api import pops as pops_api
from callcenter.web.api import reports as reports_api
from callcenter.web.api import terms as terms_api
from callcenter.web.api import wallboard as wallboard_api
from callcenter.web.deps import ForbiddenError, NotAuthenticatedError
from callcenter.web.dialer import Dialer
from callcenter.web.errors import api_errors
from callcenter.web.limits import UploadLimit
from callcenter.web.pages import audit as audit_page
from callcenter.web.pages import calls as calls_page
from callcenter.web.pages import contracts as contracts_page
from callcenter.web.pages import login, operator
from callcenter.web.pages import reports as reports_page
from callcenter.web.pages import review as review_pages
from callcenter.web.pages import terms as terms_page
from callcenter.web.pages import users as users_page
from callcenter.web.pages import wallboard as wallboard_page
from callcenter.web.templating import page
from callcenter.web.throttle import LoginThrottle

STATIC = Path(__file__).parent / "static"
ROUTERS = [
    token.router,
    users.router,
    users.me_router,
    pops_api.router,
    tickets.router,
    tickets.read_router,
    calls.router,
    calls.log_router,
    review.router,  # before callbacks: its /api/callbacks/all is not a callback's id
    callbacks.router,
    login.router,
    login.logout_router,
    operator.router,
    users_page.router,
    contracts_api.router,
    terms_api.router,
    audit_api.router,
    contracts_page.router,
    terms_page.router,
    audit_page.router,
    review_pages.router,
    wallboard_api.router,
    wallboard_page.router,
    calls_page.router,
    reports_api.router,
    reports_page.router,
    ws.router,
]

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def create_app(
    settings: Settings,
    hub: PopHub,
    sessions: sessionmaker[Session] | None = None,
    throttle: LoginThrottle | None = None,
    dialer: Dialer | None = None,
    board: LiveBoard | None = None,
) -> FastAPI:
    """The app; `sessions` defaults to an engine on `settings.database_url`; `dialer` is the
    process's AMI connection for callbacks (none: the call-back action answers 503); `board`
    the live wallboard of the process's listener (none: the wallboard shows counters only)."""
    app = FastAPI(
        title="callcenter",
        summary="Contract-aware support line: the operators' and managers' API",
        docs_url=None,  # Swagger UI loads from a CDN; /openapi.json is the description
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.hub = hub
    app.state.sessions = sessions or db.sessions(db.make_engine(settings.database_url))
    app.state.throttle = throttle or LoginThrottle()
    app.state.dialer = dialer or Dialer()
    app.state.board = board

    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _handlers(app)
    api_errors(app)
    app.add_middleware(UploadLimit)
    app.add_middleware(SecurityHeaders)
    return app


MISSING_PAGE = {
    "title": "Nie ma takiej strony",
    "text": "Adres wskazuje numer, pod którym nic nie ma. Sprawdź go albo wróć.",
    "back": "/",
}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(NotAuthenticatedError)
    async def not_authenticated(request: Request, _: NotAuthenticatedError) -> Response:
        if _is_api(request) or request.method != "GET":
            return JSONResponse(
                {"detail": "not authenticated"}, 401, headers={"WWW-Authenticate": "Bearer"}
            )
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(ForbiddenError)
    async def forbidden(request: Request, exc: ForbiddenError) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": f"forbidden: {exc.why}"}, 403)
        return page(request, "forbidden.html", {"why": exc.why}, 403)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        if not _is_api(request) and all(e.get("loc", ("",))[0] == "path" for e in exc.errors()):
            # A page's address that names no row (not a number, or one past any id).
            return page(request, "notice.html", MISSING_PAGE, 404)
        # Name the field, never echo the value (it may be a password).
        errors = [
            {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "msg": e["msg"]}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, 422)


class SecurityHeaders:
    """Every HTTP answer: a strict Content-Security-Policy (scripts and styles from
    /static only), no framing, no sniffing; pages and API answers are not cached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if not static:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)
