"""Log in, log out, and choose a password from an invitation link.

Log-in: the rate limit is checked first (failures for this login, and from this address,
within the window: ``WebConfig.login_*``); over it, the answer is 429 and the password is not
even tried. A wrong password and an unknown login get the same answer after the same work (an
argon2 verification). On success the session is emptied and refilled (a new CSRF token too), so
nothing set before the log-in survives it (session fixation).
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from storage import web_accounts
from storage.web_accounts import AccountInfo
from web import auth
from web.pages import client_address, current_account, now, render, state
from web.security import checked_form, csrf_token

MAX_LOGIN = 254


def home_of(account: AccountInfo) -> str:
    return "/portail" if account.role == "collectivity" else "/admin"


def safe_next(value: object) -> str | None:
    """A local path to go back to after logging in; anything else (another site) is dropped."""
    if (
        isinstance(value, str)
        and value.startswith("/")
        and not value.startswith("//")
        and "\\" not in value
        and len(value) < 500
    ):
        return value
    return None


async def home(request: Request) -> Response:
    account = await current_account(request)
    target = home_of(account) if account else "/connexion"
    return RedirectResponse(target, status_code=303)


async def login_page(request: Request) -> Response:
    account = await current_account(request)
    if account is not None:
        return RedirectResponse(home_of(account), status_code=303)
    return render(request, "login.html.j2", next=safe_next(request.query_params.get("suite")))


async def login(request: Request) -> Response:
    form = await checked_form(request)
    st = state(request)
    login_name = str(form.get("login") or "").strip().lower()[:MAX_LOGIN]
    password = str(form.get("password") or "")
    next_path = safe_next(form.get("suite"))
    at = now(request)
    client = client_address(request)
    config = st.config
    async with st.database.session() as db:
        since = at - timedelta(seconds=config.login_window_seconds)
        by_login, by_client = await web_accounts.failures_since(db, login_name, client, since)
    if by_login >= config.login_max_failures or by_client >= config.login_client_max_failures:
        minutes = max(1, round(config.login_window_seconds / 60))
        return render(
            request, "login.html.j2", status_code=429, next=next_path, login=login_name,
            error=st.t("web.login.too_many", minutes=minutes),
        )  # fmt: skip
    async with st.database.session() as db:
        account = await web_accounts.account_by_login(db, login_name)
        stored = await web_accounts.password_hash(db, account.id) if account else None
    ok = await st.passwords.verify(stored, password)
    if not ok or account is None or not account.active:
        async with st.database.session() as db:
            await web_accounts.record_failure(db, login_name, client, at)
            await web_accounts.forget_failures(db, at - timedelta(days=1))
        return render(
            request, "login.html.j2", status_code=401, next=next_path, login=login_name,
            error=st.t("web.login.failed"),
        )  # fmt: skip
    async with st.database.session() as db:
        if stored is not None and st.passwords.needs_rehash(stored):
            hashed = await st.passwords.hash_async(password)
            await web_accounts.set_password_hash(db, account.id, hashed, end_sessions=False)
    return await start_session(request, account, next_path)


async def start_session(
    request: Request, account: AccountInfo, next_path: str | None = None
) -> Response:
    """Log the account in: the session is emptied and refilled (a new CSRF token too), so
    nothing set before the log-in survives it; then to ``next_path`` or the account's home."""
    at = now(request)
    async with state(request).database.session() as db:
        await web_accounts.record_login(db, account.id, at)
    request.session.clear()
    request.session.update(
        {"account": account.id, "epoch": account.session_epoch, "since": at.timestamp()}
    )
    csrf_token(request)
    return RedirectResponse(next_path or home_of(account), status_code=303)


async def logout(request: Request) -> Response:
    await checked_form(request)
    request.session.clear()
    return RedirectResponse("/connexion", status_code=303)


async def invite_page(request: Request) -> Response:
    st = state(request)
    token = str(request.path_params["token"])
    async with st.database.session() as db:
        account = await web_accounts.invite_account(db, auth.token_hash(token), now(request))
    if account is None:
        return render(request, "invite_gone.html.j2", status_code=404)
    return render(request, "invite.html.j2", invited=account, token=token)


async def invite(request: Request) -> Response:
    form = await checked_form(request)
    st = state(request)
    token = str(request.path_params["token"])
    password, confirm = str(form.get("password") or ""), str(form.get("confirm") or "")
    digest = auth.token_hash(token)
    async with st.database.session() as db:
        account = await web_accounts.invite_account(db, digest, now(request))
    if account is None:
        return render(request, "invite_gone.html.j2", status_code=404)
    problem = auth.password_problem(password, confirm)
    if problem is not None:
        return render(
            request, "invite.html.j2", status_code=400, invited=account, token=token,
            error=st.t(problem, n=auth.MIN_PASSWORD),
        )  # fmt: skip
    hashed = await st.passwords.hash_async(password)
    async with st.database.session() as db:
        used = await web_accounts.use_invite(db, digest, now(request), hashed)
    if used is None:
        return render(request, "invite_gone.html.j2", status_code=404)
    request.session.clear()
    return RedirectResponse(f"/connexion?fait={quote('mot-de-passe')}", status_code=303)
