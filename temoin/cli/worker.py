"""`temoin worker`: run the dispatcher on a schedule until SIGTERM/SIGINT, or once.

Logs go to stderr, one line each with a UTC timestamp. The protocol libraries' own loggers
are held at WARNING whatever ``--log-level`` says: at DEBUG they echo the commands they send,
and a LOGIN or AUTH line carries a password.

Options override the ``[dispatch]`` settings for this run (``--lease-seconds``,
``--interval``, ``--batch-size``); the rate limits come from the settings only.
``--as-of DATETIME`` runs as if it were that moment, time then passing as usual
(``scenarios.clock.OffsetClock``): a rehearsal on a chosen day against the simulated provider
and mailbox (``temoin sim``; README, "Rehearse a campaign"). Without a zone the date-time is
read in the settings' ``timezone``. Every worker given the same ``--as-of`` at about the same
moment shares one timeline. ``--clock-file PATH`` reads "now" from the file ``temoin demo``
publishes its simulated clock to (``scenarios.clock.FileClock``), so the demo's worker
processes live in its time.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import typer

from scenarios.clock import Clock, FileClock, OffsetClock
from temoin.cli.common import (
    DatabaseUnreachable,
    app_context,
    connect_or_raise,
    fail,
    fail_database,
    fail_settings,
    open_or_raise,
)
from temoin.cli.words import Words, words

if TYPE_CHECKING:
    from runners.dispatcher import DispatchReport
    from temoin.settings import Settings

# Loggers that may print credentials at DEBUG (IMAP LOGIN, SMTP AUTH, aiosmtpd sessions).
QUIET_LOGGERS = ("aioimaplib", "aiosmtplib", "mail.log", "apscheduler")


class _UtcFormatter(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"


def setup_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_UtcFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


def report_lines(report: DispatchReport, w: Words) -> list[str]:
    """The counts, the lines per provider and the run's events in the reader's words."""
    from runners.dispatch_report import COUNTS

    counts = [w(f"cli.worker.count.{name}", n=w.f.number(getattr(report, name))) for name in COUNTS]
    lines = [", ".join(counts)]
    lines.extend(f"  {line}" for line in report.lines(w.t))
    lines.extend(f"  {error.said(w.t)}" for error in report.reader_errors())
    return lines


def _as_of(text: str, timezone: str, w: Words) -> datetime:
    """``--as-of``: ISO 8601; a date-time without a zone is local to ``timezone``."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        fail(w("cli.worker.bad_as_of", text=text), 2)
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(timezone))
    return when.astimezone(UTC)


def _overridden(settings: Settings, changes: dict[str, object]) -> Settings:
    if not changes:
        return settings
    dispatch = settings.dispatch.model_copy(update=changes)
    return settings.model_copy(update={"dispatch": dispatch})


def worker(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="cli.help.worker.worker.once"),
    lease_seconds: int | None = typer.Option(
        None, "--lease-seconds", min=1, help="cli.help.worker.worker.lease_seconds"
    ),
    interval: float | None = typer.Option(
        None, "--interval", min=0.01, help="cli.help.worker.worker.interval"
    ),
    batch_size: int | None = typer.Option(
        None, "--batch-size", min=1, help="cli.help.worker.worker.batch_size"
    ),
    log_level: str = typer.Option("info", "--log-level", help="cli.help.worker.worker.log_level"),
    clock_offset: float | None = typer.Option(
        None, "--clock-offset", hidden=True, help="cli.help.worker.worker.clock_offset"
    ),
    as_of: str | None = typer.Option(
        None,
        "--as-of",
        metavar="DATETIME",
        help="cli.help.worker.worker.as_of",
    ),
    clock_file: Path | None = typer.Option(
        None, "--clock-file", help="cli.help.worker.worker.clock_file"
    ),
) -> None:
    """Send the due emails (and follow-ups) through the personas' mailboxes.

    Several workers may run at once on PostgreSQL: they share the work through row claims.
    """
    from runners.secrets import SecretError
    from temoin.worker import run_worker

    app = app_context(ctx)
    w = words(app)
    if log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        fail(w("cli.worker.bad_log_level", level=log_level), 2)
    setup_logging(log_level)
    changes: dict[str, object] = {}
    if lease_seconds is not None:
        changes["lease_seconds"] = lease_seconds
    if interval is not None:
        changes["interval_seconds"] = interval
    if batch_size is not None:
        changes["batch_size"] = batch_size
    settings = _overridden(app.settings, changes)
    try:
        settings.connection_url()
    except SecretError as exc:
        from scenarios.i18n import Translator

        t = Translator(settings.locale)
        fail_settings(t("settings.error.secret", name="database_password", reason=exc.said(t)))
    if sum(x is not None for x in (as_of, clock_offset, clock_file)) > 1:
        fail(w("cli.worker.clocks"), 2)

    async def probe() -> None:
        database = open_or_raise(settings)
        try:
            await connect_or_raise(database)
        finally:
            await database.dispose()

    try:  # one line now, rather than a driver's traceback from inside the first run
        asyncio.run(probe())
    except DatabaseUnreachable as exc:
        fail_database(settings, exc)
    clock: Clock = app.clock
    if as_of is not None:
        clock_offset = (_as_of(as_of, settings.timezone, w) - datetime.now(UTC)).total_seconds()
    if clock_offset is not None:
        clock = OffsetClock(timedelta(seconds=clock_offset))
        logging.getLogger("temoin.worker").warning(
            "clock shifted by %+.0f s: now is %s", clock_offset, clock.now().isoformat()
        )
    if clock_file is not None:
        clock = FileClock(clock_file)
    try:
        report = asyncio.run(run_worker(settings, clock, once=once))
    except KeyboardInterrupt:  # a second Ctrl-C while stopping
        raise typer.Exit(130) from None
    if not once:
        return
    if report is None:
        fail(w("cli.worker.unfinished"))
    for line in report_lines(report, w):
        typer.echo(line)
