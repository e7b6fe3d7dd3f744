"""The ASGI app: routes, middleware and error pages, built from what it is handed.

    create_app(database, config, clock)  ->  Starlette app

    SecurityHeaders( SessionMiddleware( routes ) )

Routes (French paths, what people see in the address bar):

    /                       to the account's home, or the log-in page
    /connexion              log in (GET form, POST)         /deconnexion   log out (POST)
    /connexion/sso[/retour] single sign-on (OpenID Connect, when configured: web.sso)
    /invitation/{token}     choose a password (single use, expiring)
    /portail...             a collectivity's own results (views_portal)
    /admin...               the back office (views_admin)
    /admin/comptes...       accounts, for coordinators (views_accounts)
    /static/...             htmx and the style sheet, served from here (no CDN)
    /sante                  "ok", for health checks

The app holds no state between requests but the database: several processes can serve it.
At start-up (the ASGI lifespan, which uvicorn runs) it makes sure, in the background, that the
newest closed campaigns' barometer figures are kept for their current data and held
(``web.barometers``); pages asked meanwhile wait for that work rather than repeat it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from scenarios.catalog import Catalog
from scenarios.clock import Clock
from scenarios.formatting import Formats
from scenarios.i18n import Translator
from storage.db import Database
from web import (
    auth,
    views_accounts,
    views_admin,
    views_auth,
    views_bulk,
    views_comments,
    views_compare,
    views_downloads,
    views_evolution,
    views_portal,
    views_review,
)
from web import sso as web_sso
from web.config import WebConfig
from web.pages import STATIC_DIR, LoginRequired, WebState, make_templates, render
from web.security import SecurityHeaders

SESSION_COOKIE = "temoin_session"

log = logging.getLogger(__name__)


async def health(_request: Request) -> Response:
    return PlainTextResponse("ok")


async def no_icon(_request: Request) -> Response:
    return Response(status_code=204)


def routes() -> list[BaseRoute]:
    return [
        Route("/", views_auth.home),
        Route("/sante", health),
        Route("/favicon.ico", no_icon),
        Route("/connexion", views_auth.login_page, methods=["GET"]),
        Route("/connexion", views_auth.login, methods=["POST"]),
        Route("/deconnexion", views_auth.logout, methods=["POST"]),
        Route("/invitation/{token:str}", views_auth.invite_page, methods=["GET"]),
        Route("/invitation/{token:str}", views_auth.invite, methods=["POST"]),
        *web_sso.routes(),
        *views_portal.routes(),
        *views_evolution.routes(),
        *views_bulk.routes(),
        *views_admin.routes(),
        *views_review.routes(),
        *views_accounts.routes(),
        *views_downloads.routes(),
        *views_compare.routes(),
        *views_comments.routes(),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
    ]


async def _login_required(request: Request, _exc: Exception) -> Response:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    if request.method != "GET" or views_auth.safe_next(target) is None:
        target = "/"
    return RedirectResponse(f"/connexion?suite={quote(target, safe='/')}", status_code=303)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = exc.status_code if exc.status_code in (400, 403, 404, 405, 413, 429) else 400
    return render(request, "error.html.j2", status_code=code, code=code)


async def _warm(state: WebState) -> None:
    try:
        await state.barometers.warm(
            state.database, min_cell=state.config.min_cell, strata=state.config.strata,
            catalog=state.scenario_catalog(), now=state.clock.now,
        )  # fmt: skip
    except Exception:  # the pages compute what was not warmed: never a reason to stop
        log.exception("warming the closed campaigns' barometer figures failed")


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    state = app.state.web
    task = asyncio.create_task(_warm(state)) if state.warm_up else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def create_app(
    database: Database,
    config: WebConfig,
    clock: Clock,
    *,
    catalog: Catalog | None = None,
    warm_up: bool = True,
) -> Starlette:
    """The app for one database; ``catalog`` defaults to the shipped scenarios (loaded once);
    ``warm_up``: hold the closed campaigns' figures at start-up (module docstring)."""
    t = Translator(config.locale)
    f = Formats(config.locale, config.timezone)
    app = Starlette(
        routes=routes(),
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=config.secret_key,
                session_cookie=SESSION_COOKIE,
                max_age=config.session_seconds,
                same_site="lax",
                https_only=config.secure_cookies,
            ),
        ],
        exception_handlers={LoginRequired: _login_required, HTTPException: _http_error},
        lifespan=_lifespan,
    )
    passwords = auth.Passwords(
        config.argon2_time_cost, config.argon2_memory_kib, config.argon2_parallelism
    )
    templates = make_templates(t, f)
    templates.env.globals["sso_label"] = config.oidc.label if config.oidc else None
    app.state.web = WebState(
        database,
        config,
        clock,
        catalog,
        t,
        f,
        templates,
        passwords,
        sso=web_sso.make_client(config),
        warm_up=warm_up,
    )
    return app
