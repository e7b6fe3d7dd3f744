"""Accounts in the back office: coordinators list, create, invite, disable and re-role them.

    GET  /admin/comptes[?q=…&page=N]           the accounts (searched, by pages), a form to add one
    POST /admin/comptes                        add an account      -> its invitation link, once
    POST /admin/comptes/{id}/invitation        a new link          -> shown once (old ones die)
    POST /admin/comptes/{id}/role              another role (and collectivity); sessions end
    POST /admin/comptes/{id}/desactiver        refused from now on; sessions end

Coordinators only (consultants and collectivities get 403), every POST behind the CSRF check.
An invitation link is shown in the answer to the POST that made it and nowhere else: only its
digest is stored (``web.auth.new_invite``, the same as ``temoin web users``), and pages are
never cached (``Cache-Control: no-store``). A coordinator cannot disable nor re-role their own
account, so the back office cannot be locked by a slip of the mouse.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from storage import web_accounts
from storage.web_accounts import ROLES, AccountError, AccountInfo
from web import auth
from web.pages import int_param, not_found, now, render, require_coordinator, state
from web.security import checked_form

MAX_NAME = 200
MAX_CODE = 10
MAX_QUERY = 100
PAGE = 100  # accounts per page (a barometer may have one per collectivity: thousands)


def routes() -> list[BaseRoute]:
    return [
        Route("/admin/comptes", accounts, methods=["GET"]),
        Route("/admin/comptes", add, methods=["POST"]),
        Route("/admin/comptes/{account_id:int}/invitation", invite, methods=["POST"]),
        Route("/admin/comptes/{account_id:int}/role", change_role, methods=["POST"]),
        Route("/admin/comptes/{account_id:int}/desactiver", disable, methods=["POST"]),
    ]


async def _page(
    request: Request,
    *,
    status_code: int = 200,
    error: str | None = None,
    notice: str | None = None,
    link: tuple[AccountInfo, str] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    async with state(request).database.session() as db:
        found = await web_accounts.list_accounts(db)
    query = request.query_params.get("q", "").strip().lower()[:MAX_QUERY]
    if query:
        found = [a for a in found if query in _searched(a)]
    raw = request.query_params.get("page", "1")
    pages = max(1, -(-len(found) // PAGE))
    page = min(int(raw) if raw.isdigit() and 0 < len(raw) < 7 else 1, pages) or 1
    return render(
        request, "admin/accounts.html.j2", status_code=status_code,
        accounts=found[(page - 1) * PAGE : page * PAGE], total=len(found), page=page,
        pages=pages, query=query, roles=ROLES, error=error, notice=notice, link=link,
        form=form or {}, hours=round(state(request).config.invite_seconds / 3600),
    )  # fmt: skip


def _searched(account: AccountInfo) -> str:
    """What the search box looks in: login, name, collectivity's code and name."""
    parts = (account.login, account.name, account.collectivity_code, account.collectivity_name)
    return " ".join(p for p in parts if p).lower()


async def accounts(request: Request) -> Response:
    await require_coordinator(request)
    return await _page(request)


def _error(request: Request, exc: AccountError, login: str = "", code: str = "") -> str:
    return state(request).t(f"web.accounts.error.{exc.reason}", login=login, code=code)


async def _link(request: Request, account: AccountInfo) -> str:
    st = state(request)
    async with st.database.session() as db:
        return await auth.new_invite(
            db, account.id, now(request), st.config.invite_seconds, st.config.public_url
        )


async def add(request: Request) -> Response:
    await require_coordinator(request)
    form = await checked_form(request)
    st = state(request)
    given = {k: str(form.get(k) or "").strip() for k in ("login", "name", "role", "collectivity")}
    login = auth.fold_login(given["login"])
    name = given["name"][:MAX_NAME]
    code = given["collectivity"][:MAX_CODE] if given["role"] == "collectivity" else ""
    if login is None:
        error = st.t("web.accounts.error.login")
        return await _page(request, status_code=400, error=error, form=given)
    if not name:
        error = st.t("web.accounts.error.name")
        return await _page(request, status_code=400, error=error, form=given)
    try:
        async with st.database.session() as db:
            account = await web_accounts.add_account(
                db, login=login, name=name, role=given["role"], collectivity_code=code or None,
                now=now(request),
            )  # fmt: skip
    except AccountError as exc:
        error = _error(request, exc, login, code)
        return await _page(request, status_code=400, error=error, form=given)
    link = await _link(request, account)
    notice = st.t("web.accounts.added", login=account.login)
    return await _page(request, notice=notice, link=(account, link))


async def _other_account(request: Request) -> tuple[AccountInfo, AccountInfo]:
    """(the coordinator acting, the active account the path names: never their own)."""
    me = await require_coordinator(request)
    account_id = int_param(request, "account_id")
    async with state(request).database.session() as db:
        found = await web_accounts.account_by_id(db, account_id)
    if found is None or not found.active:
        not_found()
    return me, found


async def invite(request: Request) -> Response:
    await require_coordinator(request)
    await checked_form(request)
    _me, account = await _other_account(request)
    link = await _link(request, account)
    notice = state(request).t("web.accounts.invited", login=account.login)
    return await _page(request, notice=notice, link=(account, link))


async def change_role(request: Request) -> Response:
    await require_coordinator(request)
    form = await checked_form(request)
    st = state(request)
    me, account = await _other_account(request)
    if account.id == me.id:
        return await _page(request, status_code=409, error=st.t("web.accounts.error.self"))
    role = str(form.get("role") or "")
    code = str(form.get("collectivity") or "").strip()[:MAX_CODE] if role == "collectivity" else ""
    try:
        async with st.database.session() as db:
            changed = await web_accounts.set_role(db, account.id, role, code or None)
    except AccountError as exc:
        error = _error(request, exc, account.login, code)
        return await _page(request, status_code=400, error=error)
    role_name = st.t(f"web.role.{changed.role}")
    notice = st.t("web.accounts.role_changed", login=changed.login, role=role_name)
    return await _page(request, notice=notice)


async def disable(request: Request) -> Response:
    await require_coordinator(request)
    await checked_form(request)
    st = state(request)
    me, account = await _other_account(request)
    if account.id == me.id:
        return await _page(request, status_code=409, error=st.t("web.accounts.error.self"))
    async with st.database.session() as db:
        await web_accounts.disable_account(db, account.login, now(request))
    return RedirectResponse("/admin/comptes", status_code=303)
