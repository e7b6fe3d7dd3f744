"""`temoin auditors …`: invite auditors to the bot, list them, disable them, assign tasks.

``invite --name NAME [--key KEY] [--role coordinator] [--expires 7d] [--campaign NAME]``
creates a single-use code that expires (only its SHA-256 is stored) and prints it with the
``https://t.me/<bot>?start=CODE`` link. ``--key`` binds the invite to an auditor the
campaign file already created (same key); without it the key is made from the name. The
bot's username comes from ``bot.username`` or, failing that, from Telegram (getMe).
``--campaign`` (coordinators) names a campaign they follow (digest, ``/avancement``).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from temoin.cli.campaign_tables import unknown_campaign
from temoin.cli.common import (
    MAX_ID,
    AppContext,
    UserError,
    app_context,
    console,
    fail,
    json_text,
    run_with_db,
)
from temoin.cli.words import words

if TYPE_CHECKING:
    from storage.db import Database
    from temoin.settings import Settings

app = typer.Typer(rich_markup_mode=None, no_args_is_help=True, help="cli.help.auditors.about")

_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")


class Role(StrEnum):
    AUDITOR = "auditor"
    COORDINATOR = "coordinator"


def key_from_name(name: str) -> str:
    import unicodedata

    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    key = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60]
    return key or "auditeur"


async def _bot_username(settings: Settings) -> str | None:
    from telegram import Bot
    from telegram.error import TelegramError

    from runners.secrets import SecretError, resolve_secret

    if settings.bot.username:
        return settings.bot.username
    if settings.bot_token is None:
        return None
    try:
        token = resolve_secret(settings.bot_token)
    except SecretError:
        return None
    kwargs: dict[str, Any] = {}
    if settings.bot.base_url:
        kwargs["base_url"] = settings.bot.base_url
    try:
        async with Bot(token, **kwargs) as bot:
            return bot.username
    except (TelegramError, OSError):
        return None


@app.command("invite", help="cli.help.auditors.invite.about")
def invite(
    ctx: typer.Context,
    name: str = typer.Option(..., "--name", help="cli.help.auditors.invite.name"),
    key: str | None = typer.Option(None, "--key", help="cli.help.auditors.invite.key"),
    role: Role = typer.Option(Role.AUDITOR, "--role", help="cli.help.auditors.invite.role"),
    expires: str = typer.Option("7d", "--expires", help="cli.help.auditors.invite.expires"),
    campaigns: list[str] = typer.Option(
        [], "--campaign", help="cli.help.auditors.invite.campaigns"
    ),
) -> None:
    """Create a single-use invite code and print it with the bot link."""
    from bot.invites import invite_link, new_code, parse_expiry
    from storage import auditors as repo

    try:
        validity = parse_expiry(expires)
    except ValueError as exc:
        fail(str(exc))
    w = words(app_context(ctx))
    chosen = key or key_from_name(name)
    if not _KEY.match(chosen):
        fail(w("cli.auditors.bad_key", key=chosen))
    if not name.strip() or len(name) > 120:
        fail(w("cli.auditors.bad_name"))
    code = new_code()

    async def work(database: Database, app_ctx: AppContext) -> tuple[bool, str | None]:
        now = app_ctx.clock.now()
        async with database.session() as session:
            auditor, created = await repo.create_invite(
                session,
                key=chosen,
                name=name.strip(),
                role=role.value,
                code_hash=repo.hash_code(code),
                now=now,
                expires_at=now + validity,
            )
            for campaign in campaigns:
                campaign_id = await repo.find_campaign_id(session, campaign)
                if campaign_id is None:
                    raise UserError(await unknown_campaign(session, campaign, w))
                await repo.add_coordination(session, auditor.id, campaign_id)
        return created, await _bot_username(app_ctx.settings)

    created, username = run_with_db(ctx, work)
    said = "cli.auditors.invited_new" if created else "cli.auditors.invited"
    console.print(w(said, key=chosen, role=role.value, expires=expires))
    console.print(w("cli.auditors.code", code=code))
    if username:
        console.print(w("cli.auditors.link", link=invite_link(username, code)))
    else:
        console.print(w("cli.auditors.no_link"))


@app.command("list", help="cli.help.auditors.list_command.about")
def list_command(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="cli.help.auditors.list_command.as_json"),
) -> None:
    """Auditors with their role, Telegram binding and open tasks."""
    from storage import auditors as repo

    async def work(database: Database, app_ctx: AppContext) -> list[dict[str, Any]]:
        async with database.session() as session:
            found = await repo.list_auditors(session)
        return [
            {
                "key": auditor.key,
                "name": auditor.name,
                "role": auditor.role,
                "active": auditor.active,
                "telegram": auditor.telegram_user_id is not None,
                "open_tasks": count,
            }
            for auditor, count in found
        ]

    rows = run_with_db(ctx, work)
    if as_json:
        typer.echo(json_text(rows))
        return
    w = words(app_context(ctx))
    table = Table(title=w("cli.auditors.title"), title_justify="left")
    for column in ("key", "name", "role", "active", "telegram", "open_tasks"):
        table.add_column(w(f"cli.auditors.{column}"),
                         justify="right" if column == "open_tasks" else "left")  # fmt: skip
    for row in rows:
        role = (
            w(f"cli.auditors.{row['role']}")
            if row["role"] in {r.value for r in Role}
            else row["role"]
        )
        table.add_row(
            row["key"], row["name"], role, w.yes_no(row["active"]),
            w("cli.auditors.bound") if row["telegram"] else "–", w.f.number(row["open_tasks"]),
        )  # fmt: skip
    console.print(table)


@app.command("disable", help="cli.help.auditors.disable.about")
def disable(
    ctx: typer.Context,
    auditor: str = typer.Argument(..., help="cli.help.auditors.disable.auditor"),
) -> None:
    """Disable an auditor: the bot refuses them from now on (tasks stay assigned)."""
    from storage import auditors as repo

    w = words(app_context(ctx))

    async def work(database: Database, app_ctx: AppContext) -> None:
        async with database.session() as session:
            found = await repo.find_auditor(session, auditor)
            if found is None:
                raise UserError(w("cli.auditors.unknown", key=auditor))
            found.active = False

    run_with_db(ctx, work)
    console.print(w("cli.auditors.disabled", key=auditor))


@app.command("assign", help="cli.help.auditors.assign.about")
def assign(
    ctx: typer.Context,
    contact: int = typer.Argument(..., min=1, max=MAX_ID, help="cli.help.auditors.assign.contact"),
    auditor: str = typer.Argument(..., help="cli.help.auditors.assign.auditor"),
) -> None:
    """Give a contact (call, visit, or a letter to post) to an auditor."""
    from storage import auditors as auditor_repo
    from storage import bot as repo

    w = words(app_context(ctx))

    async def work(database: Database, app_ctx: AppContext) -> str:
        async with database.session() as session:
            found = await auditor_repo.find_auditor(session, auditor)
            if found is None:
                raise UserError(w("cli.auditors.unknown", key=auditor))
            if not found.active:
                raise UserError(w("cli.auditors.inactive", key=found.key))
            row = await repo.assign_contact(session, contact, found.id, app_ctx.clock.now())
            if row is None:
                raise UserError(w("cli.contact.unknown", id=contact))
            if row.channel == "email":
                raise UserError(w("cli.auditors.email", id=contact))
            return w("cli.auditors.assigned", id=contact, channel=w.channel(row.channel),
                     status=w.status(row.status), key=found.key)  # fmt: skip

    console.print(run_with_db(ctx, work))


@app.command("coordinate", help="cli.help.auditors.coordinate.about")
def coordinate(
    ctx: typer.Context,
    auditor: str = typer.Argument(..., help="cli.help.auditors.coordinate.auditor"),
    campaign: str = typer.Argument(..., help="cli.help.auditors.coordinate.campaign"),
) -> None:
    """Let a coordinator follow a campaign (daily digest, /avancement)."""
    from storage import auditors as repo

    w = words(app_context(ctx))

    async def work(database: Database, app_ctx: AppContext) -> None:
        async with database.session() as session:
            found = await repo.find_auditor(session, auditor)
            if found is None:
                raise UserError(w("cli.auditors.unknown", key=auditor))
            campaign_id = await repo.find_campaign_id(session, campaign)
            if campaign_id is None:
                raise UserError(await unknown_campaign(session, campaign, w))
            await repo.add_coordination(session, found.id, campaign_id)

    run_with_db(ctx, work)
    console.print(w("cli.auditors.follows", key=auditor, campaign=campaign))
