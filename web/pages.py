"""The plumbing every page shares: the app's state, the templates, and who is logged in.

A session cookie (Starlette's ``SessionMiddleware``: signed with itsdangerous, HttpOnly,
SameSite=Lax, Secure unless configured off) holds the account id, the account's
``session_epoch`` and the log-in time. Each request reloads the account: a disabled account,
a bumped epoch (password changed, account disabled) or a session older than
``session_seconds`` is logged out at once, whatever the cookie says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from reports.campaign_stats import shipped_catalog
from scenarios.catalog import Catalog
from scenarios.clock import Clock
from scenarios.formatting import Formats
from scenarios.i18n import Translator
from storage import web_accounts
from storage.db import Database
from storage.web_accounts import AccountInfo
from web import auth
from web.barometers import BarometerCache
from web.config import WebConfig
from web.pdf_cache import PdfCache
from web.security import CSRF_FIELD, csrf_token

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"


@dataclass
class WebState:
    database: Database
    config: WebConfig
    clock: Clock
    catalog: Catalog | None
    t: Translator
    f: Formats
    templates: Jinja2Templates
    passwords: auth.Passwords
    barometers: BarometerCache = field(default_factory=BarometerCache)
    pdfs: PdfCache = field(default_factory=PdfCache)  # closed campaigns' rendered PDFs
    sso: Any | None = None  # Authlib's client of the OpenID Connect provider (web.sso)
    warm_up: bool = True  # hold the closed campaigns' figures at start-up (web.app)

    def scenario_catalog(self) -> Catalog:
        """The app's scenario catalogue (the shipped one unless given), loaded once."""
        if self.catalog is None:
            self.catalog = shipped_catalog()
        return self.catalog


class LoginRequired(Exception):
    """Raised by a page that needs a logged-in account; answered with the log-in page."""


def make_templates(t: Translator, f: Formats) -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(("html", "j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(t=t, f=f, csrf_field_name=CSRF_FIELD)
    return Jinja2Templates(env=env)


def state(request: Request) -> WebState:
    found = request.app.state.web
    assert isinstance(found, WebState)
    return found


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    st = state(request)
    context.setdefault("account", getattr(request.state, "account", None))
    context["csrf_token"] = csrf_token(request)
    return st.templates.TemplateResponse(request, name, context, status_code=status_code)


def now(request: Request) -> datetime:
    return state(request).clock.now()


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def current_account(request: Request) -> AccountInfo | None:
    """The logged-in account, or None (the session is then emptied but for its CSRF token)."""
    if hasattr(request.state, "account"):
        found: AccountInfo | None = request.state.account
        return found
    st = state(request)
    session = request.session
    account_id, epoch, since = session.get("account"), session.get("epoch"), session.get("since")
    account = None
    if isinstance(account_id, int) and isinstance(epoch, int) and isinstance(since, (int, float)):
        async with st.database.session() as db:
            account = await web_accounts.account_by_id(db, account_id)
        fresh = st.clock.now().timestamp() - since < st.config.session_seconds
        if account is None or not account.active or account.session_epoch != epoch or not fresh:
            account = None
    if account is None and "account" in session:
        for key in ("account", "epoch", "since"):
            session.pop(key, None)
    request.state.account = account
    return account


async def require_account(request: Request) -> AccountInfo:
    account = await current_account(request)
    if account is None:
        raise LoginRequired()
    return account


def forbidden() -> NoReturn:
    raise HTTPException(status_code=403)


def not_found() -> NoReturn:
    raise HTTPException(status_code=404)


async def require_back_office(request: Request) -> AccountInfo:
    account = await require_account(request)
    if not auth.can_read_back_office(account):
        forbidden()
    return account


async def require_coordinator(request: Request) -> AccountInfo:
    account = await require_account(request)
    if not auth.can_decide(account):
        forbidden()
    return account


async def require_portal(request: Request) -> tuple[AccountInfo, int]:
    account = await require_account(request)
    collectivity_id = auth.portal_collectivity(account)
    if collectivity_id is None:
        forbidden()
    return account, collectivity_id


def int_param(request: Request, name: str) -> int:
    """A path parameter that must be a row id; anything else is a 404, not a 500."""
    value = request.path_params.get(name)
    if isinstance(value, int) and 0 < value < 2**31:
        return value
    not_found()
