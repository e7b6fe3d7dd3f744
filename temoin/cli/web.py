"""`temoin web`: serve the back office and the portal; manage who may log in.

    temoin web [--host 127.0.0.1] [--port 8000] [--workers 1]
    temoin web users add LOGIN --name NAME --role coordinator|consultant|collectivity
                         [--collectivity INSEE]        prints a single-use invitation link
    temoin web users list
    temoin web users invite LOGIN                      a new link (the old ones stop working)
    temoin web users disable LOGIN                     refused from now on, sessions ended

Accounts get no password here: the invitation link (valid ``web.invite_hours``) lets the
person choose one, so no password is ever typed on a command line or printed.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import typer

from temoin.cli.common import (
    AppContext,
    UserError,
    app_context,
    console,
    fail,
    fail_settings,
    run_with_db,
)
from temoin.cli.words import Words, words

if TYPE_CHECKING:
    from storage.db import Database

app = typer.Typer(
    rich_markup_mode=None,
    invoke_without_command=True,
    help="cli.help.web.about",
)
users = typer.Typer(rich_markup_mode=None, no_args_is_help=True, help="cli.help.web.users")
app.add_typer(users, name="users")


@app.callback(help="cli.help.web.serve.about")
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="cli.help.web.serve.host"),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="cli.help.web.serve.port"),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="cli.help.web.serve.workers"),
) -> None:
    """Serve the site (behind a reverse proxy with TLS in production)."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from runners.secrets import SecretError
    from temoin.web import web_config

    app_ctx = app_context(ctx)
    settings = app_ctx.settings
    try:
        web_config(settings)  # fail here, in one line, rather than in each worker
    except SecretError as exc:
        w = words(app_ctx)
        fail_settings(w("settings.error.secret", name="web.secret_key", reason=exc.said(w.t)))
    if app_ctx.config is not None:
        os.environ["TEMOIN_CONFIG"] = str(app_ctx.config)
    uvicorn.run(
        "temoin.web:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        forwarded_allow_ips=settings.web.forwarded_allow_ips,
        server_header=False,
        log_level="info",
    )


def _hours(w: Words, hours: float) -> str:
    """« 72 », « 1,5 »: ``invite_hours`` is a float, shown without a useless ``.0``."""
    return w.f.number(hours, 0 if hours == int(hours) else 1)


async def _invite(database: Database, app_ctx: AppContext, account_id: int) -> str:
    from web import auth

    settings = app_ctx.settings.web
    async with database.session() as session:
        return await auth.new_invite(
            session, account_id, app_ctx.clock.now(), settings.invite_hours * 3600,
            settings.public_url,
        )  # fmt: skip


@users.command("add", help="cli.help.web.add.about")
def add(
    ctx: typer.Context,
    login: str = typer.Argument(..., help="cli.help.web.add.login"),
    name: str = typer.Option(..., "--name", help="cli.help.web.add.name"),
    role: str = typer.Option(..., "--role", help="cli.help.web.add.role"),
    collectivity: str | None = typer.Option(
        None, "--collectivity", help="cli.help.web.add.collectivity"
    ),
) -> None:
    """Create an account and print its invitation link."""
    from storage import web_accounts
    from web import auth

    w = words(app_context(ctx))  # the configured locale, French by default
    folded = auth.fold_login(login)
    if folded is None:
        fail(w("web.cli.bad_login", login=login), 2)

    async def work(database: Database, app_ctx: AppContext) -> str:
        async with database.session() as session:
            try:
                account = await web_accounts.add_account(
                    session, login=folded, name=name.strip()[:200], role=role,
                    collectivity_code=collectivity, now=app_ctx.clock.now(),
                )  # fmt: skip
            except web_accounts.AccountError as exc:
                said = w(f"web.accounts.error.{exc.reason}", login=folded, code=collectivity)
                raise UserError(said) from exc
        return await _invite(database, app_ctx, account.id)

    link = run_with_db(ctx, work)
    console.print(w("web.cli.added", login=folded))
    console.print(w("web.cli.link", hours=_hours(w, app_context(ctx).settings.web.invite_hours)))
    typer.echo(link)


@users.command("invite", help="cli.help.web.invite.about")
def invite(
    ctx: typer.Context, login: str = typer.Argument(..., help="cli.help.web.invite.login")
) -> None:
    """Print a new invitation link for an account (to set or reset its password)."""
    from storage import web_accounts

    w = words(app_context(ctx))  # the configured locale, French by default

    async def work(database: Database, app_ctx: AppContext) -> str:
        async with database.session() as session:
            account = await web_accounts.account_by_login(session, login.strip().lower())
        if account is None or not account.active:
            raise UserError(w("web.cli.unknown", login=login))
        return await _invite(database, app_ctx, account.id)

    link = run_with_db(ctx, work)
    console.print(w("web.cli.link", hours=_hours(w, app_context(ctx).settings.web.invite_hours)))
    typer.echo(link)


@users.command("disable", help="cli.help.web.disable.about")
def disable(
    ctx: typer.Context, login: str = typer.Argument(..., help="cli.help.web.disable.login")
) -> None:
    """Refuse an account from now on; its open sessions end at their next request."""
    from storage import web_accounts

    w = words(app_context(ctx))  # the configured locale, French by default

    async def work(database: Database, app_ctx: AppContext) -> None:
        async with database.session() as session:
            done = await web_accounts.disable_account(
                session, login.strip().lower(), app_ctx.clock.now()
            )
        if not done:
            raise UserError(w("web.cli.unknown", login=login))

    run_with_db(ctx, work)
    console.print(w("web.cli.disabled", login=login.strip().lower()))


@users.command("list", help="cli.help.web.list_command.about")
def list_command(ctx: typer.Context) -> None:
    """List the accounts."""
    from storage import web_accounts

    w = words(app_context(ctx))  # the configured locale, French by default

    async def work(database: Database, _app: AppContext) -> list[web_accounts.AccountInfo]:
        async with database.session() as session:
            return await web_accounts.list_accounts(session)

    accounts = run_with_db(ctx, work)
    if not accounts:
        console.print(w("web.cli.none"))
        return
    console.print(w("web.cli.title", n=w.f.number(len(accounts))))
    for a in accounts:
        if not a.active:
            state = w("web.cli.state.disabled")
        elif not a.has_password:
            state = w("web.cli.state.invited")
        else:
            state = w("web.cli.state.active")
        where = f"{a.collectivity_name} ({a.collectivity_code})" if a.collectivity_code else ""
        last = w.when(a.last_login_at)
        fields = [a.login, a.name, w(f"web.role.{a.role}"), where, state, last]
        console.print(" · ".join(x for x in fields if x), soft_wrap=True)
