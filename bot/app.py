"""The bot's wiring: ``build_application`` (handlers, error handler, jobs) and ``run``.

``run`` serves with long polling (``bot.polling``: a thread of its own, so that updates are
stamped as they arrive), or with a webhook when ``bot.webhook_url`` is set (``bot.webhook``:
a server of its own on ``bot.listen``:``bot.port``, in threads, checking Telegram's secret
token header and stamping each update as its request arrives).
Updates of different users are handled concurrently, those of one user in order
(``PerUserUpdateProcessor``): a user's updates change their state row one after the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import uvloop
from telegram import BotCommand, Update
from telegram.ext import (
    Application,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import handlers
from bot.arrivals import ArrivalQueue, Arrivals
from bot.http import AiohttpRequest
from bot.polling import ArrivalPoller
from bot.reminders import reminder_job
from bot.runtime import Runtime
from bot.webhook import ArrivalWebhook
from scenarios.catalog import Catalog, load_catalog
from scenarios.clock import Clock, SystemClock
from scenarios.i18n import Translator
from storage.db import Database

log = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]
T = TypeVar("T")

COMMANDS = (
    ("taches", "bot.command.tasks"),
    ("avancement", "bot.command.progress"),
    ("annuler", "bot.command.cancel"),
    ("aide", "bot.command.help"),
)


# PostgreSQL units of work the bot runs at once. The bot is bound by its own CPU (one event
# loop, about 8 ms of Python per update), not by the server: with every update's transaction
# open at once (up to 32, the pool), each statement's answer waited behind the Python of all
# the others before its coroutine ran again, and PostgreSQL sat « idle in transaction » on
# 80 % of samples of pg_stat_activity; every update took as long as the whole crowd. A few at
# a time, in arrival order (as SQLite's single writer already did), still overlap one's
# round trip with another's Python, and each update is done in about its own time.
PG_UNITS_AT_ONCE = 4


def units_at_once(database: Database) -> int:
    return 1 if database.is_sqlite else PG_UNITS_AT_ONCE


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across users, sequential for one user (their state is one row)."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        user = update.effective_user if isinstance(update, Update) else None
        if user is None:
            await coroutine
            return
        key = user.id
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._waiting[key] -= 1
            if self._waiting[key] == 0:  # forget idle users: the dict stays small
                del self._waiting[key]
                del self._locks[key]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


@dataclass(frozen=True)
class BotConfig:
    """What the bot is given (``temoin.cli.bot`` builds it from the settings, secrets read)."""

    token: str = field(repr=False)
    timezone: str = "Europe/Paris"
    base_url: str | None = None
    base_file_url: str | None = None
    concurrent_updates: int = 64
    photo_max_bytes: int = 10_000_000
    location_flag_metres: float = 300.0
    morning_hour: int = 8
    evening_hour: int = 18
    digest_hour: int = 19
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    listen: str = "127.0.0.1"
    port: int = 8443
    reminders: bool = True  # the reminder job (tests drive ``bot.reminders.send_due``)
    reminder_interval: float = 60.0


def build_application(
    conf: BotConfig,
    database: Database,
    *,
    clock: Clock | None = None,
    catalog: Catalog | None = None,
) -> App:
    """The Application with every handler, the error handler and the reminder job.

    Its update queue stamps each update as it arrives (``bot.arrivals``), before it waits for
    a handler: a button press is timed then."""
    clock = clock or SystemClock()
    arrivals = Arrivals(clock)
    builder = (
        Application.builder()
        .token(conf.token)
        .update_queue(ArrivalQueue(arrivals))
        .concurrent_updates(PerUserUpdateProcessor(conf.concurrent_updates))
        # aiohttp rather than PTB's httpx: a fifth of the CPU per request (``bot.http``).
        # A few kept connections: 64 updates in flight wait for one briefly at worst.
        .request(AiohttpRequest(connection_pool_size=16, pool_timeout=30))
        .post_init(_post_init)
    )
    if conf.base_url:
        builder = builder.base_url(conf.base_url)
    if conf.base_file_url:
        builder = builder.base_file_url(conf.base_file_url)
    app: App = builder.build()
    app.bot_data["runtime"] = Runtime(
        database=database,
        clock=clock,
        arrivals=arrivals,
        catalog=catalog or load_catalog(),
        tz=ZoneInfo(conf.timezone),
        photo_max_bytes=conf.photo_max_bytes,
        flag_metres=conf.location_flag_metres,
        morning_hour=conf.morning_hour,
        evening_hour=conf.evening_hour,
        digest_hour=conf.digest_hour,
        unit_slots=asyncio.Semaphore(units_at_once(database)),
    )
    # Edits are ignored: an edited old message must not answer the current question.
    private = filters.ChatType.PRIVATE & ~filters.UpdateType.EDITED
    app.add_handler(CommandHandler("start", handlers.start, filters=private))
    app.add_handler(CommandHandler(["taches", "tasks"], handlers.tasks, filters=private))
    app.add_handler(CommandHandler(["avancement", "progress"], handlers.progress, filters=private))
    app.add_handler(CommandHandler(["aide", "help"], handlers.help_command, filters=private))
    app.add_handler(CommandHandler(["annuler", "cancel"], handlers.cancel, filters=private))
    app.add_handler(CallbackQueryHandler(handlers.on_callback))
    app.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, handlers.on_text))
    app.add_handler(
        MessageHandler(private & (filters.PHOTO | filters.Document.IMAGE), handlers.on_photo)
    )
    app.add_handler(MessageHandler(private & filters.LOCATION, handlers.on_location))
    app.add_handler(MessageHandler(private, handlers.on_other))
    app.add_error_handler(handlers.on_error)
    if conf.reminders and app.job_queue is not None:
        # misfire_grace_time: a tick missed while the loop was busy still runs (the claims
        # in the database keep it from sending anything twice).
        app.job_queue.run_repeating(
            reminder_job, interval=conf.reminder_interval, first=5, name="reminders",
            job_kwargs={"misfire_grace_time": 50, "coalesce": True},
        )  # fmt: skip
    return app


async def _post_init(app: App) -> None:
    for locale in ("fr", "en"):
        t = Translator(locale)
        commands = [BotCommand(name, t(key)) for name, key in COMMANDS]
        await app.bot.set_my_commands(commands, language_code=None if locale == "fr" else "en")


async def run(
    conf: BotConfig,
    database: Database,
    *,
    clock: Clock | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM (or ``stop``): long polling, or the configured webhook
    (never without its secret token: anyone reaching it could post as any auditor)."""
    if conf.webhook_url and not conf.webhook_secret:
        raise ValueError("a webhook needs its secret token (bot.webhook_secret)")
    app = build_application(conf, database, clock=clock)
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
    async with app:
        await app.start()
        receiver: ArrivalPoller | ArrivalWebhook
        if conf.webhook_url:
            receiver = webhook(app, conf)
            await receiver.start()
            log.info("bot serving a webhook on %s:%s", conf.listen, conf.port)
        else:
            receiver = poller(app)
            await receiver.start()
            log.info("bot polling for updates")
        await stop.wait()
        await receiver.stop()
        await app.stop()


def serve(main: Coroutine[Any, Any, T]) -> T:
    """Run the bot process's ``main`` (``run`` and what surrounds it) to the end, on uvloop:
    libuv's event loop costs the bot a good part less CPU per update than asyncio's own
    (the loop's bookkeeping and its socket writes, several per update, and asyncpg's
    protocol is written for it). The bot's threads (the poller, the webhook server) hand
    over with ``call_soon_threadsafe``, which uvloop keeps."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def poller(app: App, *, timeout: int = 10) -> ArrivalPoller:
    """Long polling for ``app`` (built by ``build_application``), stamping in its own thread."""
    arrivals = app_runtime(app).arrivals
    assert arrivals is not None
    return ArrivalPoller(app, arrivals, timeout=timeout)


def webhook(app: App, conf: BotConfig) -> ArrivalWebhook:
    """The webhook of ``conf`` for ``app`` (built by ``build_application``), stamping each
    update in the server's threads as its request arrives."""
    arrivals = app_runtime(app).arrivals
    assert arrivals is not None and conf.webhook_url and conf.webhook_secret
    return ArrivalWebhook(
        app,
        arrivals,
        listen=conf.listen,
        port=conf.port,
        url_path=urlsplit(conf.webhook_url).path,
        webhook_url=conf.webhook_url,
        secret=conf.webhook_secret,
    )


def app_runtime(app: App) -> Runtime:
    found = app.bot_data["runtime"]
    assert isinstance(found, Runtime)
    return found
