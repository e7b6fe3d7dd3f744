"""`temoin bot`: run the auditors' Telegram bot until SIGTERM/SIGINT.

Long polling by default; a webhook when ``bot.webhook_url`` is set (see ``[bot]`` in the
settings). The token is read from ``bot_token`` (a secret reference) and never printed or
logged: the HTTP client's request log, which would show it in every URL, is held at WARNING.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import TYPE_CHECKING

import typer

from temoin.cli.common import (
    DatabaseUnreachable,
    app_context,
    connect_or_raise,
    fail_database,
    fail_settings,
    open_or_raise,
)

if TYPE_CHECKING:
    from bot.app import BotConfig
    from temoin.settings import Settings

# httpx logs each request line at INFO: a Bot API URL holds the token.
QUIET_LOGGERS = ("httpx", "httpcore", "apscheduler", "telegram.ext.Updater")


# What Telegram accepts as a webhook's secret token.
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{16,256}")


def bot_config(settings: Settings) -> BotConfig:
    """The bot's configuration from the settings, secrets resolved now."""
    from bot.app import BotConfig
    from runners.secrets import SecretError, resolve_secret

    def resolved(ref: str, setting: str) -> str:
        try:
            return resolve_secret(ref)
        except SecretError as exc:  # said with the setting's name (cli.bot: bot_cmd)
            raise SecretError(str(exc), exc.code, **exc.params, setting=setting) from exc

    if settings.bot_token is None:
        raise SecretError(
            "bot_token is not set (give a reference: env:VAR or file:/path)", "token_unset",
            setting="bot_token",
        )  # fmt: skip
    conf = settings.bot
    secret = resolved(conf.webhook_secret, "bot.webhook_secret") if conf.webhook_secret else None
    if conf.webhook_url and (secret is None or not _WEBHOOK_SECRET.fullmatch(secret)):
        # never echo the value: it is the secret
        raise SecretError(
            "bot.webhook_secret must resolve to 16 to 256 characters among A-Z a-z 0-9 _ -",
            "webhook_secret_form", setting="bot.webhook_secret",
        )  # fmt: skip
    return BotConfig(
        token=resolved(settings.bot_token, "bot_token"),
        timezone=settings.timezone,
        base_url=conf.base_url,
        base_file_url=conf.base_file_url,
        concurrent_updates=conf.concurrent_updates,
        photo_max_bytes=conf.photo_max_bytes,
        location_flag_metres=conf.location_flag_metres,
        morning_hour=conf.morning_hour,
        evening_hour=conf.evening_hour,
        digest_hour=conf.digest_hour,
        webhook_url=conf.webhook_url,
        webhook_secret=secret,
        listen=conf.listen,
        port=conf.port,
    )


def setup_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


def bot(
    ctx: typer.Context,
    log_level: str = typer.Option("info", "--log-level", help="cli.help.bot.bot.log_level"),
) -> None:
    """Run the auditors' Telegram bot (long polling, or the configured webhook)."""
    from bot.app import run, serve
    from runners.secrets import SecretError
    from scenarios.i18n import Translator

    app = app_context(ctx)
    try:
        conf = bot_config(app.settings)
    except SecretError as exc:
        t = Translator(app.settings.locale)
        name = exc.params.get("setting", "bot_token")
        fail_settings(t("settings.error.secret", name=name, reason=exc.said(t)))
    setup_logging(log_level)

    async def main() -> None:
        database = open_or_raise(app.settings)
        try:
            await connect_or_raise(database)
            await run(conf, database, clock=app.clock)
        finally:
            await database.dispose()

    try:
        serve(main())
    except DatabaseUnreachable as exc:
        fail_database(app.settings, exc)
